"""``triage:`` in the config file: weights, thresholds and cue lists, with defaults that work."""

from __future__ import annotations

from pydantic import Field, model_validator

from monitor.configbase import ConfigModel

# Escalation terms: each one alone is a reason to look now (legal, safety, press, churn).
_ESCALATION_TERMS = [
    "lawyer",
    "attorney",
    "legal action",
    "sue you",
    "suing",
    "lawsuit",
    "small claims",
    "chargeback",
    "safety",
    "unsafe",
    "injured",
    "injury",
    "hospital",
    "caught fire",
    "burned",
    "stranded",
    "police",
    "the press",
    "the media",
    "local news",
    "journalist",
    "reporter",
    "the news",
    "cancel my account",
    "close my account",
    "cancel my subscription",
    "switching to",
    "never again",
    "lost a customer",
    "take my business elsewhere",
    "taking my business elsewhere",
    "fraud",
    "scam",
    "discrimination",
    "harassment",
]


class TriageWeights(ConfigModel):
    """How much each signal moves the complaint score (positive = towards ``complaint``)."""

    # Combined sentiment s in [-1, 1] adds ``-sentiment * s``: negative text pushes up, positive down.
    sentiment: float = Field(default=1.5, ge=0)
    # VADER's negative share of the text (0–1) times this: negative words diluted by praise still count.
    negative_words: float = Field(default=3.0, ge=0)
    # Service failures ("still waiting", "charged twice", "doesn't work"), per distinct cue, capped below.
    failure: float = Field(default=1.0, ge=0)
    # Demands on the brand (refund, fix it, call me back).
    demand: float = Field(default=0.8, ge=0)
    # Frustration and blame words ("unacceptable", "worst", "ridiculous") that lexicons underrate.
    frustration: float = Field(default=1.0, ge=0)
    # Persistence and time spent ("again", "for 3 hours", "still no").
    persistence: float = Field(default=0.8, ge=0)
    # A why/how-come/where-is-my question, a complaint phrased as a question.
    accusing_question: float = Field(default=1.2, ge=0)
    # Praise next to a failure ("great, another delay"): sarcasm, read as a complaint.
    sarcasm: float = Field(default=1.2, ge=0)
    # Thanks and praise lower the score (unless the praise is sarcastic).
    praise: float = Field(default=0.8, ge=0)
    # "my order", "my account", "customer service": only counted next to other complaint evidence.
    possessive: float = Field(default=0.4, ge=0)
    # "!!!", "?!" and shouting in capitals, only counted next to other complaint evidence.
    emphasis: float = Field(default=0.3, ge=0)
    # The optional learned classifier: adds ``learned * (2p - 1)`` for its complaint probability p.
    learned: float = Field(default=2.0, ge=0)


class UrgencyWeights(ConfigModel):
    """Points (of 100) each fact adds to urgency; the label sets the base."""

    base_complaint: int = Field(default=30, ge=0, le=100)
    base_question: int = Field(default=30, ge=0, le=100)
    base_unscored: int = Field(default=35, ge=0, le=100)
    base_neutral: int = Field(default=10, ge=0, le=100)
    base_praise: int = Field(default=5, ge=0, le=100)
    base_spam: int = Field(default=0, ge=0, le=100)
    # Extra points per unit of complaint score above the threshold, capped at ``complaint_strength_max``.
    # Kept small: how *negative* a complaint reads says little about how urgent it is; severity
    # (below) decides P1/P2. A complaint with no severity cue stays under ``p2_urgency`` (digest).
    complaint_strength: int = Field(default=3, ge=0, le=100)
    complaint_strength_max: int = Field(default=4, ge=0, le=100)
    escalation: int = Field(default=30, ge=0, le=100)
    # Severity (``severity.py``): its points (accusation, harm, threats, repetition, waiting,
    # public shaming; capped at 60) are multiplied by this and added to a complaint's urgency.
    severity_scale: float = Field(default=1.0, ge=0)
    # Severity points from which a complaint's severity reads "severe" (below: "moderate", 0: "mild").
    severe_points: int = Field(default=25, ge=1, le=100)
    # A complaint that asks for something (refund, call back, a fix, a manager) expects an answer.
    # Off by default: on X-FINCORP it lowers P1/P2 precision for severe complaints (0.351 -> 0.338).
    demand: int = Field(default=0, ge=0, le=100)

    def base(self, label: str) -> int:
        """The urgency a mention starts from for its label (triage, and a team's relabel)."""
        return {
            "complaint": self.base_complaint,
            "question": self.base_question,
            "praise": self.base_praise,
            "spam": self.base_spam,
            "unscored": self.base_unscored,
        }.get(label, self.base_neutral)

    # Reach: ``reach_max`` points at ``very_high_reach_followers``, half of it at ``high_reach_followers``.
    reach_max: int = Field(default=20, ge=0, le=100)
    # Each earlier complaint by the same author in the last 24 h, capped at ``repeat_max``.
    repeat_24h: int = Field(default=8, ge=0, le=100)
    repeat_max: int = Field(default=20, ge=0, le=100)
    # A long-standing complainer (``repeat_total_min`` complaints overall) but none in 24 h.
    repeat_total: int = Field(default=5, ge=0, le=100)
    # A follow-up in a thread the brand already answered: the first answer did not settle it.
    thread_follow_up: int = Field(default=10, ge=0, le=100)
    addressed_to_brand: int = Field(default=5, ge=0, le=100)
    emphasis: int = Field(default=5, ge=0, le=100)


class TriageSettings(ConfigModel):
    """The ``triage:`` section. Every field has a default, so an empty section works."""

    # Combined sentiment at or below this reads as negative (also the TextBlob-style reason threshold).
    negative_polarity: float = Field(default=-0.05, ge=-1, le=1)
    # Combined sentiment at or above this reads as positive (a ``praise`` candidate).
    positive_polarity: float = Field(default=0.3, ge=-1, le=1)
    # How the two lexicon scorers are mixed: weighted mean of TextBlob polarity and VADER compound.
    textblob_weight: float = Field(default=1.0, ge=0)
    vader_weight: float = Field(default=2.0, ge=0)
    # A complaint score at or above this makes the label ``complaint``: any net complaint evidence,
    # with a small margin so that rounding noise in the lexicons does not flip a label.
    complaint_threshold: float = Field(default=0.05)
    # A post not addressed to the brand that does not even name it (a product word or keyword
    # matched) needs this much more complaint evidence (``directed.py``).
    unnamed_complaint_margin: float = Field(default=1.0, ge=0)
    # A post not addressed to the brand is a complaint on tone alone only when its combined
    # sentiment is at or below this; otherwise it needs a stated cue (a failure, a demand...).
    unaddressed_tone: float = Field(default=-0.4, ge=-1, le=1)
    # Cap on how many distinct cues of one family count, so one long rant does not run away.
    max_cues_per_family: int = Field(default=2, ge=1)
    weights: TriageWeights = Field(default_factory=TriageWeights)
    urgency: UrgencyWeights = Field(default_factory=UrgencyWeights)
    # Urgency at or above which a mention is P1 (act now) / P2 (within the SLA); below is P3.
    p1_urgency: int = Field(default=70, ge=0, le=100)
    p2_urgency: int = Field(default=40, ge=0, le=100)
    # Whether a post that is not aimed at the brand (no reply to it, no @-mention, no quote: a
    # news item, a forum thread, a keyword match) may be P1. Off: such a post is at most P2, read
    # within the SLA (TweetEval's general posts: 718 P1 pages, 37% not even negative).
    p1_unaddressed: bool = False
    # Followers from which an author counts as high-reach / very high reach.
    high_reach_followers: int = Field(default=10_000, ge=0)
    very_high_reach_followers: int = Field(default=100_000, ge=0)
    repeat_total_min: int = Field(default=3, ge=1)
    escalation_terms: list[str] = Field(default_factory=lambda: list(_ESCALATION_TERMS))
    # Extra complaint cues for this brand's domain, on top of the built-in general ones
    # (e.g. "out of stock", "wrong size"). Plain phrases, matched as whole words.
    extra_failure_terms: list[str] = Field(default_factory=list)
    extra_demand_terms: list[str] = Field(default_factory=list)
    # Languages the English lexicons may score; anything else is labelled ``unscored``.
    scored_languages: list[str] = Field(default_factory=lambda: ["en"])
    # When the platform gives no language, guess from script and common words (offline, no model).
    guess_language: bool = True
    # Optional learned classifier (``mention-monitor triage-train`` writes it). The file is
    # JSON written by this program, so it is not executable; still, point it only at your own file.
    model_path: str | None = None

    def priority(self, urgency: int) -> str:
        """P1 (act now), P2 (within the SLA) or P3 (digest) for an urgency."""
        return "P1" if urgency >= self.p1_urgency else "P2" if urgency >= self.p2_urgency else "P3"

    @property
    def highest_p2(self) -> int:
        """The urgency a P1 reading is lowered to when it may not page (P2 at most)."""
        return max(self.p2_urgency, self.p1_urgency - 1)

    @model_validator(mode="after")
    def _ordered(self) -> TriageSettings:
        if self.p2_urgency > self.p1_urgency:
            raise ValueError(
                f"triage: p2_urgency ({self.p2_urgency}) must not exceed p1_urgency ({self.p1_urgency})"
            )
        if self.textblob_weight + self.vader_weight <= 0:
            raise ValueError("triage: textblob_weight and vader_weight cannot both be 0")
        if self.high_reach_followers > self.very_high_reach_followers:
            raise ValueError("triage: high_reach_followers must not exceed very_high_reach_followers")
        return self
