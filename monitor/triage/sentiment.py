"""Lexicon sentiment: TextBlob (the reference score) and VADER (social-media tuned), combined."""

from __future__ import annotations

from dataclasses import dataclass

from textblob.en import sentiment as _textblob_sentiment
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from monitor.triage.model import Evidence
from monitor.triage.settings import TriageSettings


@dataclass(frozen=True, slots=True)
class SentimentReading:
    """Both lexicon scores of one text and their weighted mix, all in [-1, 1] (subjectivity [0, 1])."""

    polarity: float
    subjectivity: float
    vader: float
    combined: float


class SentimentScorer:
    """Holds the VADER lexicon (loaded once); TextBlob's pattern scorer is a module-level singleton.

    ``textblob.en.sentiment`` is what ``PatternAnalyzer.analyze`` calls, minus the namedtuple class
    it builds on every call, so the numbers are the ones managers know at about half the cost.
    """

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def read(self, text: str, textblob_weight: float = 1.0, vader_weight: float = 1.0) -> SentimentReading:
        """Score ``text`` with both lexicons; an empty text reads 0 everywhere."""
        if not text.strip():
            return SentimentReading(0.0, 0.0, 0.0, 0.0)
        polarity, subjectivity = _textblob_sentiment(text)
        vader = self._vader.polarity_scores(text)["compound"]
        total = textblob_weight + vader_weight
        combined = (textblob_weight * polarity + vader_weight * vader) / total if total else 0.0
        return SentimentReading(float(polarity), float(subjectivity), float(vader), float(combined))


def sentiment_evidence(reading: SentimentReading, settings: TriageSettings) -> list[Evidence]:
    """Sentiment as one weighted feature, never a gate: negative pushes towards complaint, positive away."""
    weight = -settings.weights.sentiment * reading.combined
    if reading.combined <= settings.negative_polarity:
        return [Evidence("sentiment", weight, f"negative ({_signed(reading.combined)})")]
    if reading.combined >= settings.positive_polarity:
        return [Evidence("sentiment", weight, f"positive ({_signed(reading.combined)})")]
    if weight:
        # Mildly positive or negative: it still counts, but is not worth a reason line.
        return [Evidence("sentiment", weight, "")]
    return []


def _signed(value: float) -> str:
    # A real minus sign reads better in alerts than a hyphen.
    return f"{value:+.2f}".replace("-", "−")
