"""Values that go into and come out of triage."""

from __future__ import annotations

from dataclasses import dataclass, field

LABELS = ("complaint", "question", "praise", "neutral", "spam", "unscored")
SEVERITIES = ("severe", "moderate", "mild")
PRIORITIES = ("P1", "P2", "P3")


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    """What storage knows about the author before this mention."""

    mentions_total: int = 0
    complaints_total: int = 0
    complaints_24h: int = 0


@dataclass(frozen=True, slots=True)
class TriageContext:
    """Everything triage may know beyond the mention itself."""

    author: AuthorHistory = field(default_factory=AuthorHistory)
    # The brand already answered in this conversation (a follow-up in a live thread).
    brand_replied_in_thread: bool = False


@dataclass(frozen=True, slots=True)
class Evidence:
    """One signal's contribution: a name, how much it moves the score, and the reason an agent reads."""

    signal: str
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Triage output: the reference TextBlob scores, a label, urgency 0–100, priority and why."""

    polarity: float
    subjectivity: float
    label: str
    urgency: int
    priority: str
    reasons: tuple[str, ...] = ()
    # The summed complaint evidence; ``label == "complaint"`` when it reaches the threshold.
    complaint_score: float = 0.0
    # Social-media-tuned sentiment (VADER compound) and the weighted mix with TextBlob.
    vader: float = 0.0
    sentiment: float = 0.0
    # The language the decision was made for ("en", the platform's code, or a guess); None if unknown.
    language: str | None = None
    # How bad a complaint is: "severe" (look within minutes), "moderate", "mild"; None when not a complaint.
    severity: str | None = None
