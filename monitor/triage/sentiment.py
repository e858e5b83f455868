"""Lexicon sentiment: TextBlob (the reference score) and VADER (social-media tuned), combined."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.triage.model import Evidence
from monitor.triage.settings import TriageSettings
from monitor.triage.textblob_scorer import TextBlobScorer
from monitor.triage.vader_scorer import VaderScorer


@dataclass(frozen=True, slots=True)
class SentimentReading:
    """Both lexicon scores of one text and their weighted mix, all in [-1, 1] (subjectivity [0, 1])."""

    polarity: float
    subjectivity: float
    vader: float
    combined: float
    # VADER's share of the text that is negative (0–1): stays high when praise words dilute the
    # compound score ("lovely staff, but a terrible wait").
    negative_share: float = 0.0


class SentimentScorer:
    """Holds the VADER lexicon and TextBlob's pattern scorer (each loaded once per process).

    TextBlob's scorer is what ``PatternAnalyzer.analyze`` calls, minus the namedtuple class it
    builds on every call, the lazy-loading check on every word and the tokenizing of words it
    has seen before (see :mod:`monitor.triage.textblob_scorer`); VADER's skips the work whose
    result is known (:mod:`monitor.triage.vader_scorer`). The numbers are the libraries' own.
    """

    def __init__(self) -> None:
        self._vader = VaderScorer()
        self._textblob = TextBlobScorer()

    def read(self, text: str, textblob_weight: float = 1.0, vader_weight: float = 1.0) -> SentimentReading:
        """Score ``text`` with both lexicons; an empty text reads 0 everywhere."""
        if not text.strip():
            return SentimentReading(0.0, 0.0, 0.0, 0.0)
        polarity, subjectivity = self._textblob(text)
        scores = self._vader.polarity_scores(text)
        vader = scores["compound"]
        total = textblob_weight + vader_weight
        combined = (textblob_weight * polarity + vader_weight * vader) / total if total else 0.0
        return SentimentReading(
            float(polarity), float(subjectivity), float(vader), float(combined), float(scores["neg"])
        )


def sentiment_evidence(reading: SentimentReading, settings: TriageSettings) -> list[Evidence]:
    """Sentiment as one weighted feature, never a gate: negative pushes towards complaint, positive away."""
    out = negative_words_evidence(reading, settings)
    weight = -settings.weights.sentiment * reading.combined
    if reading.combined <= settings.negative_polarity:
        return [Evidence("sentiment", weight, f"negative ({_signed(reading.combined)})"), *out]
    if reading.combined >= settings.positive_polarity:
        return [Evidence("sentiment", weight, f"positive ({_signed(reading.combined)})"), *out]
    if weight:
        # Mildly positive or negative: it still counts, but is not worth a reason line.
        return [Evidence("sentiment", weight, ""), *out]
    return out


def negative_words_evidence(reading: SentimentReading, settings: TriageSettings) -> list[Evidence]:
    """Negative language counts even when praise in the same post cancels the overall score."""
    share = reading.negative_share
    if share <= 0 or not settings.weights.negative_words:
        return []
    # Only worth a reason line when the overall score does not already say "negative".
    already_said = reading.combined <= settings.negative_polarity
    reason = "" if already_said else f"negative words ({share:.0%} of the text)"
    return [Evidence("negative_words", settings.weights.negative_words * share, reason)]


def _signed(value: float) -> str:
    # A real minus sign reads better in alerts than a hyphen.
    return f"{value:+.2f}".replace("-", "−")
