"""Lexicon sentiment: TextBlob (the reference score) and VADER (social-media tuned), combined."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from typing import Any

from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer, SentiText

from monitor.triage.model import Evidence
from monitor.triage.settings import TriageSettings


def _pattern_sentiment() -> Any:
    """``textblob.en.sentiment`` (the pattern lexicon), without running ``textblob/__init__``.

    That package file imports TextBlob's blob module, hence all of NLTK, hence SciPy: ~110 MB of
    resident memory and ~1 s of start-up for a daemon that only needs the lexicon, which lives in
    ``textblob.en`` and ``textblob._text`` (standard library only). The same modules and lexicon
    file are loaded, so polarity and subjectivity are exactly TextBlob's. A later ``import
    textblob`` still loads the real package.
    """
    if "textblob" in sys.modules:
        return importlib.import_module("textblob.en").sentiment
    spec = importlib.util.find_spec("textblob")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("TextBlob is not installed (pip install textblob)")
    package = types.ModuleType("textblob")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["textblob"] = package
    try:
        return importlib.import_module("textblob.en").sentiment
    finally:
        # Forget the modules loaded under the stand-in package: a later ``import textblob…``
        # (a bench, TextBlob itself) then loads the real package and its submodules afresh
        # instead of finding a ``textblob.en`` without its parent (a circular import).
        for name in [n for n in sys.modules if n == "textblob" or n.startswith("textblob.")]:
            del sys.modules[name]


_textblob_sentiment = _pattern_sentiment()


@functools.cache
def _loaded_sentiment() -> Any:
    """TextBlob's English sentiment scorer, its lexicon loaded up front (once per process).

    TextBlob's lexicon is a lazy dictionary: every word lookup goes through a Python-level check
    of whether the file is loaded yet (two lookups per word of every post). This is an instance of
    TextBlob's own ``Sentiment`` class, built with the module's own arguments and loaded at once,
    whose lookups are plain dictionary lookups; scoring is TextBlob's code and lexicon unchanged
    (a test compares it with TextBlob's module-level scorer). About 15% less time per post.
    """
    reference = _textblob_sentiment

    class _Loaded(type(reference)):  # type: ignore[misc]
        __contains__ = dict.__contains__
        __getitem__ = dict.__getitem__

    scorer = _Loaded(
        path=reference.path,
        synset=reference._synset,
        negations=reference.negations,
        modifiers=reference.modifiers,
        modifier=reference.modifier,
        tokenizer=reference.tokenizer,
        language="en",
    )
    scorer.load()
    return scorer


class _Vader(SentimentIntensityAnalyzer):
    """VADER's analyser; a text without emoji skips its character-by-character emoji pass.

    ``polarity_scores`` first rebuilds the text one character at a time, replacing each emoji of
    VADER's emoji lexicon by its description. Most posts have none, and the rebuilt text is then
    the text itself, stripped: such a text goes straight to VADER's scoring steps, called below
    exactly as ``polarity_scores`` calls them (a test compares the scores with VADER's own).
    Any text with an emoji goes through ``polarity_scores`` unchanged.
    """

    def __init__(self) -> None:
        super().__init__()
        self._emoji_chars = frozenset(e for e in self.emojis if len(e) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_chars.isdisjoint(text):
            return super().polarity_scores(text)
        text = text.strip()
        sentitext = SentiText(text)
        sentiments: list[float] = []
        words_and_emoticons = sentitext.words_and_emoticons
        for i, item in enumerate(words_and_emoticons):
            valence = 0
            if item.lower() in BOOSTER_DICT:
                sentiments.append(valence)
                continue
            if (
                i < len(words_and_emoticons) - 1
                and item.lower() == "kind"
                and words_and_emoticons[i + 1].lower() == "of"
            ):
                sentiments.append(valence)
                continue
            sentiments = self.sentiment_valence(valence, sentitext, item, i, sentiments)
        sentiments = self._but_check(words_and_emoticons, sentiments)
        return self.score_valence(sentiments, text)


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
    builds on every call and the lazy-loading check on every word (see :func:`_loaded_sentiment`),
    so the numbers are the ones managers know at about half the cost.
    """

    def __init__(self) -> None:
        self._vader = _Vader()
        self._textblob = _loaded_sentiment()

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
