"""The triage function: TextBlob polarity plus reach and history (refined by the triage issue)."""

from __future__ import annotations

import re

from textblob.en.sentiments import PatternAnalyzer

from monitor.mention import Mention
from monitor.triage.model import TriageContext, Verdict
from monitor.triage.settings import TriageSettings

_QUESTION = re.compile(r"\?\s*$|\?\s")
_URL = re.compile(r"https?://\S+")


class Triager:
    """Holds the analyzers once; :meth:`assess` is pure and deterministic."""

    def __init__(self, settings: TriageSettings | None = None, brand_terms: list[str] | None = None) -> None:
        self.settings = settings or TriageSettings()
        self._analyzer = PatternAnalyzer()
        terms = [t for t in self.settings.escalation_terms if t]
        self._escalation = (
            re.compile("|".join(rf"\b{re.escape(t)}\b" for t in terms), re.IGNORECASE) if terms else None
        )

    def assess(self, mention: Mention, context: TriageContext | None = None) -> Verdict:
        ctx = context or TriageContext()
        s = self.settings
        text = _URL.sub(" ", mention.text or "")
        polarity, subjectivity = self._analyzer.analyze(text)
        reasons: list[str] = []
        if mention.language and not mention.language.lower().startswith("en"):
            return Verdict(0.0, 0.0, "unscored", 50, "P2", (f"language '{mention.language}' not scored",))
        urgency = 0
        if polarity <= s.negative_polarity:
            label = "complaint"
            urgency = 40 + round(-polarity * 40)
            reasons.append(f"negative ({polarity:+.2f})")
        elif _QUESTION.search(text):
            label, urgency = "question", 30
            reasons.append("asks a question")
        elif polarity >= 0.3:
            label, urgency = "praise", 5
            reasons.append(f"positive ({polarity:+.2f})")
        else:
            label, urgency = "neutral", 10
        if self._escalation and (m := self._escalation.search(text)):
            urgency += 25
            reasons.append(f"mentions {m.group(0).lower()}")
        followers = mention.author_followers or 0
        if label == "complaint" and followers >= s.high_reach_followers:
            urgency += 15
            reasons.append(f"author has {_human(followers)} followers")
        if label == "complaint" and ctx.author.complaints_24h:
            urgency += 10
            reasons.append(f"{_ordinal(ctx.author.complaints_24h + 1)} complaint in 24 h")
        urgency = max(0, min(100, urgency))
        priority = "P1" if urgency >= s.p1_urgency else "P2" if urgency >= s.p2_urgency else "P3"
        return Verdict(round(polarity, 4), round(subjectivity, 4), label, urgency, priority, tuple(reasons))


def _human(n: int) -> str:
    return f"{n / 1_000_000:.1f}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
