"""VADER's scores, computed by VADER's own code with less repeated work per word.

``SentimentIntensityAnalyzer.polarity_scores`` spends most of its time on work whose result is
known in advance or thrown away:

- it rebuilds the text one character at a time to replace emoji, though most posts have none;
- it calls ``sentiment_valence`` for every word, though a word outside VADER's lexicon always
  gets valence 0 there;
- for each lexicon word its negation and idiom checks lower-case the whole post again (three
  to four times per lexicon word) to read the two or three words before it, and its negation
  test walks the 60-word negation list one by one.

:class:`VaderScorer` skips the first two and reads only the words those checks look at. The
rules, their order and every constant are VADER's; the replaced helpers are used only with the
VADER release they were checked against (``_CHECKED``), and a test compares the scores with
VADER's own on hand-written posts.
"""

from __future__ import annotations

from importlib import metadata

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    SentiText,
)

# The vaderSentiment release whose ``_negation_check`` and ``_special_idioms_check`` the
# overrides below were checked against; with any other, VADER's own helpers run.
_CHECKED = "3.3.2"
_NEGATE = frozenset(NEGATE)


def _negated(word: str) -> bool:
    """VADER's ``negated([word])`` for one lower-case word (a set instead of a list walk)."""
    word = word.lower()
    return word in _NEGATE or "n't" in word


def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
    """VADER's ``_negation_check``, reading only the words it looks at (i > start_i)."""
    if start_i == 0 and _negated(words[i - 1].lower()):
        valence = valence * N_SCALAR
    if start_i == 1:
        two, one = words[i - 2].lower(), words[i - 1].lower()
        if two == "never" and (one == "so" or one == "this"):
            valence = valence * 1.25
        elif two == "without" and one == "doubt":
            valence = valence
        elif _negated(two):
            valence = valence * N_SCALAR
    if start_i == 2:
        three, two, one = words[i - 3].lower(), words[i - 2].lower(), words[i - 1].lower()
        if (three == "never" and (two == "so" or two == "this")) or (one == "so" or one == "this"):
            valence = valence * 1.25
        elif three == "without" and (two == "doubt" or one == "doubt"):
            valence = valence
        elif _negated(three):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
    """VADER's ``_special_idioms_check``, reading only the words it looks at (i > 2)."""
    three, two, one, zero = (words[k].lower() for k in range(i - 3, i + 1))
    onezero = f"{one} {zero}"
    twoonezero = f"{two} {one} {zero}"
    twoone = f"{two} {one}"
    threetwoone = f"{three} {two} {one}"
    threetwo = f"{three} {two}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    last = len(words) - 1
    if last > i:
        zeroone = f"{zero} {words[i + 1].lower()}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if last > i + 1:
        zeroonetwo = f"{zero} {words[i + 1].lower()} {words[i + 2].lower()}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _checked_release() -> bool:
    try:
        return metadata.version("vaderSentiment") == _CHECKED
    except metadata.PackageNotFoundError:  # pragma: no cover - VADER imported without metadata
        return False


class VaderScorer(SentimentIntensityAnalyzer):
    """VADER's analyser: ``polarity_scores`` gives VADER's own numbers, faster.

    A text with an emoji goes through VADER's ``polarity_scores`` unchanged. Any other text goes
    to VADER's scoring steps, called as ``polarity_scores`` calls them, except that a word
    outside the lexicon gets its valence 0 without the call that would give it 0.
    """

    def __init__(self) -> None:
        super().__init__()
        self._emoji_chars = frozenset(e for e in self.emojis if len(e) == 1)
        if _checked_release():
            # Instance attributes: ``sentiment_valence`` calls them as ``self._…_check(...)``.
            self._negation_check = _negation_check  # type: ignore[method-assign]
            self._special_idioms_check = _special_idioms_check  # type: ignore[method-assign]

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_chars.isdisjoint(text):
            return super().polarity_scores(text)
        text = text.strip()
        sentitext = SentiText(text)
        words = sentitext.words_and_emoticons
        lexicon = self.lexicon
        sentiments: list[float] = []
        last = len(words) - 1
        for i, item in enumerate(words):
            lower = item.lower()
            if lower in BOOSTER_DICT or (i < last and lower == "kind" and words[i + 1].lower() == "of"):
                sentiments.append(0)  # VADER's own two skips
            elif lower not in lexicon:
                sentiments.append(0)  # what sentiment_valence appends for a word VADER does not know
            else:
                sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)
