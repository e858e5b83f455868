"""The triage function: signals -> complaint score -> label, then urgency, priority and reasons.

Each signal lives in its own module and returns :class:`Evidence` (a weight and a reason);
this module only adds them up. Weights and thresholds come from :class:`TriageSettings`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from monitor.mention import Mention
from monitor.triage.aside import brand_clause, negative_aside
from monitor.triage.cues import CueReading, CueSet, cue_evidence, emphasis_evidence
from monitor.triage.directed import Direction, complaint_allowed, direction
from monitor.triage.escalation import escalation_evidence
from monitor.triage.history import history_evidence
from monitor.triage.language import decide_language
from monitor.triage.learned import LearnedModel
from monitor.triage.model import Evidence, TriageContext, Verdict
from monitor.triage.multilingual import MultilingualCues, emoji_only, language_name
from monitor.triage.multilingual import evidence as language_evidence
from monitor.triage.multilingual import severity_evidence as language_severity
from monitor.triage.normalize import PreparedText, brand_pattern, prepare
from monitor.triage.reach import reach_evidence
from monitor.triage.sarcasm import sarcasm_evidence, sarcasm_marker
from monitor.triage.sentiment import SentimentReading, SentimentScorer, sentiment_evidence
from monitor.triage.settings import TriageSettings
from monitor.triage.severity import POINTS, SeverityCues, SeverityReading
from monitor.triage.slang import slang_evidence, slang_praise
from monitor.triage.thread import addressed_evidence, thread_evidence

# Said when a post that reads P1 is not aimed at the brand (``TriageSettings.p1_unaddressed``).
_UNAIMED_P2 = "not aimed at the brand (no reply, tag or quote): P2, not P1"
# Spam by shape: link farms and hashtag walls.
_SPAM_URLS = 3
_SPAM_HASHTAGS = 6
# A question whose only complaint evidence is a mildly negative tone ("how do I cancel?") is a
# question; a clearly negative one is still a complaint (airline set: F1 0.837 with no floor).
_QUESTION_TONE_FLOOR = -0.2
# Persistence words that do not say a question has dragged on ("is it open again on Sunday?").
_WEAK_PERSISTENCE = frozenset({"again", "another", "keep", "keeps"})
# Demands that need a person to act (not "please help", which every question says).
_ANSWER_DEMANDS = frozenset({"a refund", "compensation", "a call back", "a manager"})
# Evidence that states a complaint in words (not just a tone): needed to call a question or a promo one.
_STATED = frozenset(
    {
        "failure",
        "demand",
        "frustration",
        "accusing_question",
        "sarcasm",
        "escalation",
        "learned",
        "multilingual",
    }
)


class Triager:
    """Holds the analyzers and compiled cues once; :meth:`assess` is pure and deterministic.

    ``learned`` is an optional :class:`LearnedModel`, loaded by the caller once per process
    with ``load_model(settings.model_path)`` (which logs one line and returns None when the
    model cannot be used); the Triager itself never touches files.
    """

    def __init__(
        self,
        settings: TriageSettings | None = None,
        brand_terms: list[str] | None = None,
        *,
        learned: LearnedModel | None = None,
    ) -> None:
        self.settings = settings or TriageSettings()
        self.learned = learned
        self._brand = brand_pattern(brand_terms)
        self._sentiment = SentimentScorer()
        self._cues = CueSet(self.settings)
        self._severity = SeverityCues()
        self._languages = MultilingualCues()

    def assess(self, mention: Mention, context: TriageContext | None = None) -> Verdict:
        """Label, urgency, priority and reasons for one mention. No I/O, no clock."""
        verdict = self._assess(mention, context)
        s = self.settings
        if verdict.priority == "P1" and not mention.addressed_to_brand and not s.p1_unaddressed:
            # P1 pages a person within minutes. A post that does not reply to the brand, tag it
            # or quote it (a news item about a lawsuit, a forum thread, a keyword match) is read
            # within the SLA instead: the same reasons, P2.
            return replace(
                verdict,
                urgency=s.highest_p2,
                priority="P2",
                reasons=(*verdict.reasons, _UNAIMED_P2),
            )
        return verdict

    def _assess(self, mention: Mention, context: TriageContext | None) -> Verdict:
        ctx = context or TriageContext()
        s = self.settings
        text = prepare(mention.text, self._brand)
        language = decide_language(mention.language, text, s.scored_languages, s.guess_language)
        # One scan for every cue family, escalation terms included (also for unscored languages:
        # "lawyer" in an otherwise Spanish post still deserves a look).
        cues = self._cues.read(text)
        escalations = cues.escalation.tags

        if not language.scored and self._languages.supports(language.code):
            verdict = self._other_language(mention, ctx, text, language.code or "", escalations)
            if verdict is not None:
                return verdict
        if not language.scored:
            # English lexicons would read 0 here; say so and let reach decide how soon a human looks.
            severity = self._severity.read(text)
            urgency = self._context_points("unscored", mention, ctx, escalations, severity)
            return self._verdict(
                "unscored",
                None,
                0.0,
                s.urgency.base_unscored,
                [language.reason],
                urgency,
                language.code,
                severity,
            )

        reading = self._sentiment.read(text.clean, s.textblob_weight, s.vader_weight)
        if text.word_count == 0:
            feeling = emoji_only(text.clean)
            if feeling == "complaint" and mention.addressed_to_brand:
                # Only angry, thumbs-down, eye-roll or broken-heart emoji, aimed at the brand: a
                # complaint in any language.
                reasons = [f"only complaint emoji: “{text.clean}”"]
                urgency = self._context_points("complaint", mention, ctx, escalations)
                return self._verdict(
                    "complaint", reading, 1.0, s.urgency.base_complaint, reasons, urgency, language.code
                )
            if feeling == "praise":
                return self._verdict(
                    "praise",
                    reading,
                    -1.0,
                    s.urgency.base_praise,
                    [f"only happy emoji: “{text.clean}”"],
                    [],
                    language.code,
                )
            why = "only a link, no text to score" if text.url_count else "no text to score"
            urgency = self._context_points("neutral", mention, ctx, escalations)
            return self._verdict(
                "neutral", reading, 0.0, s.urgency.base_neutral, [why], urgency, language.code
            )

        # Not aimed at the brand, negative, and the brand named after a full stop or a pivot: the
        # clause naming it may show the negativity is about something else ("I hate Mondays.
        # Bought Acme coffee to cope").
        brand_at = -1
        if (
            not mention.addressed_to_brand
            and text.brand_at > 0
            and (cues.frustration.tags or reading.combined < 0)
        ):
            brand_at = text.brand_at
        evidence = self.complaint_evidence(text, reading, cues, escalations, brand_at=brand_at)
        score = sum(e.weight for e in evidence)
        if score > 0:
            # Capitals and "!!!" intensify a complaint; on their own they are just excitement.
            emphasis = emphasis_evidence(cues, s)
            evidence += emphasis
            score += sum(e.weight for e in emphasis)

        aim = direction(mention, text)
        label, label_reasons = self._label(text, reading, cues, evidence, score, aim)
        base = s.urgency.base(label)
        if label == "complaint":
            extra = s.urgency.complaint_strength * (score - s.complaint_threshold)
            base += round(max(0.0, min(float(s.urgency.complaint_strength_max), extra)))
        if label == "complaint" or (label in {"neutral", "question"} and self._severity.may_be_strong(text)):
            severity: SeverityReading | None = self._severity.read(text)
        else:
            severity = None
        if severity is not None and label != "complaint":
            strong = [e for e in severity.evidence if e.weight >= s.urgency.severe_points]
            if not strong or self._severity_elsewhere(mention, text, cues):
                severity = None
            else:
                # An accusation, a threat or a harm is a complaint even without a failure word
                # ("this is daylight robbery", "I'm reporting you to the ombudsman").
                label, label_reasons = "complaint", []
                base = s.urgency.base_complaint
        urgency = self._context_points(
            label, mention, ctx, escalations, severity, bool(set(cues.demand.tags) & _ANSWER_DEMANDS)
        )
        reasons = [*label_reasons, language.reason] if language.reason else label_reasons
        return self._verdict(label, reading, score, base, reasons, urgency, language.code, severity)

    def _other_language(
        self,
        mention: Mention,
        ctx: TriageContext,
        text: PreparedText,
        code: str,
        escalations: tuple[str, ...],
    ) -> Verdict | None:
        """A post in one of the languages with phrase tables; None when they find nothing to go on."""
        s = self.settings
        reading = self._languages.read(code, text.lower, text.clean)
        found = language_evidence(reading, s.weights.failure)
        if not found or (found[0].weight < 0 and reading.question):
            if reading.question:
                urgency = self._context_points("question", mention, ctx, escalations)
                who = "asks the brand a question" if mention.addressed_to_brand else "asks a question"
                return self._verdict("question", None, 0.0, s.urgency.base_question, [who], urgency, code)
            return None
        if found[0].weight < 0:
            return self._verdict(
                "praise", None, found[0].weight, s.urgency.base_praise, [found[0].reason], [], code
            )
        english = self._severity.read(text)
        extra = language_severity(reading, s.urgency.severe_points + 15)
        severity = SeverityReading(
            min(60, english.points + sum(int(e.weight) for e in extra)), (*extra, *english.evidence)
        )
        urgency = self._context_points("complaint", mention, ctx, escalations, severity)
        if mention.addressed_to_brand:
            # In this language only threats and accusations are graded (the rest of severity is
            # read from English words); until it has its own, a complaint aimed at the brand is at
            # least P2 (the shortfall is added, with a reason that says what "mild" means here).
            name = language_name(code)
            total = s.urgency.base_complaint + sum(round(e.weight) for e in urgency)
            if total < s.p2_urgency:
                why = f"{name}: severity graded on threats and accusations only, at least P2"
                urgency.append(Evidence("language", s.p2_urgency - total, why))
        score = sum(e.weight for e in found)
        return self._verdict(
            "complaint", None, score, s.urgency.base_complaint, [found[0].reason], urgency, code, severity
        )

    def complaint_evidence(
        self,
        text: PreparedText,
        reading: SentimentReading,
        cues: CueReading,
        escalations: tuple[str, ...] = (),
        *,
        brand_at: int = -1,
    ) -> list[Evidence]:
        """Every piece of complaint evidence for one text (positive weights towards ``complaint``).

        ``brand_at`` is where a post not aimed at the brand names it (-1: not looked at).
        """
        s = self.settings
        marker = sarcasm_marker(text.lower, cues, text.hashtags)
        slang = slang_praise(text.lower, cues) if marker is None else None
        # Negative words about something else ("awful day, but the team was lovely") or slang
        # praise ("wicked fast") must not count against the brand.
        aside = negative_aside(text.lower, cues, brand_at, self._tone(text)) if marker is None else None
        not_about_brand = bool(slang or aside)
        evidence: list[Evidence] = []
        for e in sentiment_evidence(reading, s):
            # Sarcastic praise is the surface of a complaint: its positive sentiment must not cancel it.
            if (marker and e.weight < 0) or (not_about_brand and e.weight > 0):
                evidence.append(Evidence(e.signal, 0.0, ""))
            else:
                evidence.append(e)
        # After an aside, a lone "still" is concessive ("awful traffic, but he still made it on time").
        concessive = aside is not None and set(cues.persistence.words) == {"still"}
        dropped = {"frustration", "persistence"} if concessive else {"frustration"}
        for e in cue_evidence(cues, s, sarcastic=marker is not None):
            evidence.append(Evidence(e.signal, 0.0, "") if not_about_brand and e.signal in dropped else e)
        evidence += sarcasm_evidence(marker, s)
        evidence += slang_evidence(slang, s)
        if escalations:
            # Threats to sue or leave are complaints even without a failure word; reason comes with urgency.
            evidence.append(Evidence("escalation", s.weights.demand, ""))
        if self.learned is not None:
            p = self.learned.complaint_score(text.clean)
            terms = self.learned.top_terms(text.clean) if p >= 0.5 else ()
            detail = f" (“{'”, “'.join(terms)}”)" if terms else ""
            evidence.append(
                Evidence(
                    "learned", s.weights.learned * (2 * p - 1), f"learned model: {p:.0%} complaint{detail}"
                )
            )
        return evidence

    def _tone(self, text: PreparedText) -> Callable[[int], float]:
        """The combined sentiment of ``text`` from a position of ``lower`` on."""
        s = self.settings
        source = text.clean if len(text.clean) == len(text.lower) else text.lower
        return lambda start: self._sentiment.read(source[start:], s.textblob_weight, s.vader_weight).combined

    def _severity_elsewhere(self, mention: Mention, text: PreparedText, cues: CueReading) -> bool:
        """Strong severity words only before the clause that names the brand, in a post not aimed at
        it whose negativity is an aside ("a documentary about scams, insane. Anyway Acme has nice
        mugs"): they are about something else."""
        if mention.addressed_to_brand or text.brand_at <= 0:
            return False
        start = brand_clause(text.lower, text.brand_at)
        if start <= 0 or negative_aside(text.lower, cues, text.brand_at, self._tone(text)) is None:
            return False
        later = self._severity.find(text.lower[start:])
        return not any(POINTS.get(f, 0) >= self.settings.urgency.severe_points for f in later)

    def _label(
        self,
        text: PreparedText,
        reading: SentimentReading,
        cues: CueReading,
        evidence: list[Evidence],
        score: float,
        aim: Direction,
    ) -> tuple[str, list[str]]:
        s = self.settings
        addressed = aim.aimed
        spammy = bool(cues.spam.tags) or text.url_count >= _SPAM_URLS or len(text.hashtags) >= _SPAM_HASHTAGS
        # Sentiment and "!!!" alone do not make a complaint of a promo or of a plain help request:
        # it takes a cue that names a failure, a demand, frustration, blame or a threat.
        stated = any(e.weight > 0 and e.signal in _STATED for e in evidence)
        if spammy and (score < s.complaint_threshold + 1 or not stated):
            what = f"“{cues.spam.tags[0]}”" if cues.spam.tags else "links and hashtags"
            return "spam", [f"looks like spam ({what})"]
        slang_said = any(e.signal == "slang" for e in evidence)
        # A question that says it has dragged on ("…? Holding for 2 hrs", "still no bag?") is not
        # a plain question: its persistence cue may make it a complaint (airline F1 0.842 -> 0.847).
        dragged_on = any(w not in _WEAK_PERSISTENCE for w in cues.persistence.words)
        plain_question = cues.question and not stated and not dragged_on
        if plain_question and reading.combined > _QUESTION_TONE_FLOOR:
            return "question", ["asks the brand a question" if addressed else "asks a question"]
        allowed = complaint_allowed(
            aim,
            stated,
            score,
            s.complaint_threshold,
            s.unnamed_complaint_margin,
            reading.combined,
            s.unaddressed_tone,
        )
        if score >= s.complaint_threshold and allowed:
            ranked = sorted((e for e in evidence if e.reason and e.weight > 0), key=lambda e: -e.weight)
            return "complaint", [e.reason for e in ranked]
        if cues.question:
            return "question", ["asks the brand a question" if addressed else "asks a question"]
        if reading.combined >= s.positive_polarity or ((cues.praise.tags or slang_said) and score < 0):
            praise = [e.reason for e in evidence if e.reason and e.signal in {"sentiment", "praise", "slang"}]
            return "praise", praise or ["positive"]
        return "neutral", []

    def _context_points(
        self,
        label: str,
        mention: Mention,
        ctx: TriageContext,
        escalations: tuple[str, ...],
        severity: SeverityReading | None = None,
        demands: bool = False,
    ) -> list[Evidence]:
        """Urgency beyond the label: severity, escalation, reach, history, thread, addressivity."""
        if label == "spam":
            return []
        s = self.settings
        u = s.urgency
        points: list[Evidence] = []
        said = " ".join(severity.reasons) if severity else ""
        # Configured escalation terms the severity families did not already quote.
        extra = tuple(t for t in escalations if f"“{t}" not in said and t not in said)
        if severity is not None and severity.points:
            points += [Evidence(e.signal, 0, e.reason) for e in severity.evidence]
            sev_points = round(severity.points * u.severity_scale)
            points.append(Evidence("severity", sev_points, ""))
        if label == "complaint" and demands:
            # A complaint that asks for something (refund, call back, fix) waits for an answer.
            points.append(Evidence("demand", u.demand, ""))
        points += escalation_evidence(extra, u.escalation)
        if label in {"complaint", "question", "unscored"}:
            points += reach_evidence(
                mention.author_followers, s.high_reach_followers, s.very_high_reach_followers, u.reach_max
            )
            points += thread_evidence(ctx.brand_replied_in_thread, u.thread_follow_up)
            points += addressed_evidence(mention.addressed_to_brand, u.addressed_to_brand)
        if label in {"complaint", "unscored"}:
            points += history_evidence(
                ctx.author, u.repeat_24h, u.repeat_max, u.repeat_total, s.repeat_total_min
            )
        return points

    def _verdict(
        self,
        label: str,
        reading: SentimentReading | None,
        score: float,
        base: int,
        reasons: list[str],
        urgency_points: list[Evidence],
        language: str | None,
        severity: SeverityReading | None = None,
    ) -> Verdict:
        s = self.settings
        urgency = max(0, min(100, base + sum(round(e.weight) for e in urgency_points)))
        priority = s.priority(urgency)
        all_reasons: list[str] = []
        for r in [*reasons, *(e.reason for e in urgency_points)]:
            if r and r not in all_reasons:
                all_reasons.append(r)
        return Verdict(
            polarity=round(reading.polarity, 4) if reading else 0.0,
            subjectivity=round(reading.subjectivity, 4) if reading else 0.0,
            label=label,
            urgency=urgency,
            priority=priority,
            reasons=tuple(all_reasons),
            complaint_score=round(score, 4),
            vader=round(reading.vader, 4) if reading else 0.0,
            sentiment=round(reading.combined, 4) if reading else 0.0,
            language=language,
            severity=self._severity_level(label, severity),
        )

    def _severity_level(self, label: str, severity: SeverityReading | None) -> str | None:
        """'severe', 'moderate' or 'mild' for complaints (and unscored posts with severity cues)."""
        if label != "complaint" and (label != "unscored" or severity is None or not severity.points):
            return None
        points = severity.points if severity else 0
        u = self.settings.urgency
        if points >= u.severe_points:
            return "severe"
        return "moderate" if points > 0 else "mild"
