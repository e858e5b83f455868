"""Language gate: English lexicons score other languages as 0, so those must not pass as neutral.

The platform's language field wins. Without one, a small offline guess (script, then common
function words of a few Latin-script languages) is used; it needs no model file and no download.
When the guess is unsure the text is scored as English and the verdict says the language is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.triage.normalize import PreparedText

# Very common function words; a handful per language separates them on short posts.
# English "a"/"i" are left out: they collide with Spanish/Italian/Portuguese.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "was",
            "were",
            "you",
            "your",
            "my",
            "me",
            "it",
            "this",
            "that",
            "not",
            "for",
            "with",
            "have",
            "has",
            "can",
            "what",
            "why",
            "how",
            "when",
            "just",
            "been",
            "will",
            "don't",
            "can't",
            "i'm",
            "it's",
            "of",
            "to",
            "in",
            "on",
            "at",
            "be",
            "do",
            "no",
        ]
    ),
    # No word that is also common in English tweets ("no", "is", "die", "con", "de", "a").
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "que",
            "y",
            "es",
            "en",
            "un",
            "una",
            "por",
            "para",
            "mi",
            "su",
            "pero",
            "muy",
            "está",
            "gracias",
            "hola",
            "del",
            "ha",
            "nadie",
            "hay",
            "ya",
            "todo",
            "nada",
            "cuando",
            "porque",
            "donde",
            "sin",
            "sobre",
            "esta",
            "este",
            "lo",
            "le",
            "se",
            "al",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "est",
            "un",
            "une",
            "des",
            "pour",
            "avec",
            "pas",
            "je",
            "mon",
            "ma",
            "vous",
            "nous",
            "ce",
            "qui",
            "sur",
            "merci",
            "du",
            "il",
            "elle",
            "mais",
            "très",
            "où",
            "sont",
            "ont",
            "été",
            "aussi",
            "personne",
            "rien",
            "toujours",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "das",
            "und",
            "ist",
            "nicht",
            "ich",
            "mein",
            "meine",
            "sie",
            "wir",
            "mit",
            "für",
            "auf",
            "ein",
            "eine",
            "den",
            "dem",
            "danke",
            "noch",
            "schon",
            "aber",
            "sehr",
            "wurde",
            "keine",
            "kein",
            "niemand",
            "immer",
            "warum",
            "bitte",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "os",
            "e",
            "é",
            "um",
            "uma",
            "não",
            "meu",
            "minha",
            "você",
            "com",
            "para",
            "por",
            "que",
            "mas",
            "muito",
            "obrigado",
            "do",
            "da",
            "ainda",
            "ninguém",
            "nada",
            "está",
            "isso",
            "sem",
            "quando",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "gli",
            "e",
            "è",
            "un",
            "una",
            "non",
            "mio",
            "mia",
            "che",
            "per",
            "con",
            "sono",
            "ma",
            "molto",
            "grazie",
            "del",
            "della",
            "ancora",
            "nessuno",
            "niente",
            "perché",
            "questo",
            "sempre",
        ]
    ),
    "nl": frozenset(
        [
            "het",
            "een",
            "en",
            "niet",
            "ik",
            "mijn",
            "jij",
            "je",
            "wij",
            "met",
            "voor",
            "op",
            "dat",
            "maar",
            "bedankt",
            "nog",
            "geen",
            "niemand",
            "altijd",
            "waarom",
            "heb",
            "ben",
            "zijn",
        ]
    ),
}
_OTHER_FUNCTION_WORDS = frozenset().union(*(v for code, v in _FUNCTION_WORDS.items() if code != "en"))
_LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# Scripts that are certainly not English; a share of their letters decides it.
_NON_LATIN = re.compile(
    r"[\u0370-\u03FF\u0400-\u04FF\u0590-\u05FF\u0600-\u06FF\u0900-\u097F\u0E00-\u0E7F"
    r"\u3040-\u30FF\u3400-\u9FFF\uAC00-\uD7AF]"
)
_SCRIPT_NAMES = [
    ((0x0370, 0x03FF), "el", "Greek"),
    ((0x0400, 0x04FF), "ru", "Cyrillic-script"),
    ((0x0590, 0x05FF), "he", "Hebrew"),
    ((0x0600, 0x06FF), "ar", "Arabic-script"),
    ((0x0900, 0x097F), "hi", "Devanagari-script"),
    ((0x0E00, 0x0E7F), "th", "Thai"),
    ((0x3040, 0x30FF), "ja", "Japanese"),
    ((0x3400, 0x9FFF), "zh", "Chinese"),
    ((0xAC00, 0xD7AF), "ko", "Korean"),
]
# Fewer words than this and function words say nothing reliable.
MIN_WORDS_TO_GUESS = 4


@dataclass(frozen=True, slots=True)
class LanguageDecision:
    """Which language the text is taken to be in, whether the lexicons may score it, and why."""

    code: str | None
    scored: bool
    reason: str


def decide_language(
    platform_language: str | None, text: PreparedText, scored: list[str], guess: bool = True
) -> LanguageDecision:
    """Platform field first; otherwise a guess; otherwise "unknown, scored as English"."""
    accepted = {code.lower().split("-")[0] for code in scored}
    if platform_language and platform_language.strip().lower() not in {"und", "unknown", "zxx"}:
        code = platform_language.strip().lower().replace("_", "-").split("-")[0]
        if code in accepted:
            return LanguageDecision(code, True, "")
        name = _LANGUAGE_NAMES.get(code, f"'{platform_language}'")
        return LanguageDecision(code, False, f"language {name} not scored: needs a human")
    if not guess:
        return LanguageDecision(None, True, "language unknown, scored as English")
    code, name = guess_language(text.clean, text.words)
    if code is None:
        if text.word_count >= MIN_WORDS_TO_GUESS:
            return LanguageDecision(None, True, "language unknown, scored as English")
        return LanguageDecision(None, True, "")
    if code in accepted:
        return LanguageDecision(code, True, "")
    return LanguageDecision(code, False, f"looks like {name} (guessed), not scored: needs a human")


def guess_language(text: str, words: Sequence[str] | None = None) -> tuple[str | None, str]:
    """(code, name) by script or common words, or (None, "") when unsure.

    ``words`` are the lower-case words of ``text`` if the caller has them already.
    """
    non_latin = _NON_LATIN.findall(text)
    if non_latin:
        letters = sum(1 for c in text if c.isalpha())
        if len(non_latin) * 2 >= letters:
            counts: dict[tuple[str, str], int] = {}
            for ch in non_latin:
                cp = ord(ch)
                for (lo, hi), code, name in _SCRIPT_NAMES:
                    if lo <= cp <= hi:
                        counts[(code, name)] = counts.get((code, name), 0) + 1
                        break
            (code, name), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
            return code, name
    if words is None:
        words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS_TO_GUESS:
        return None, ""
    distinct = set(words)
    if distinct.isdisjoint(_OTHER_FUNCTION_WORDS):
        # No other language's function word (most English posts): only English can score, which
        # is what the full tally below would conclude, with one set test instead of seven.
        return ("en", "English") if not distinct.isdisjoint(_FUNCTION_WORDS["en"]) else (None, "")
    hits = {code: len(vocab & distinct) for code, vocab in _FUNCTION_WORDS.items()}
    # Deterministic tie-break: score, then English, then code.
    best = max(hits, key=lambda c: (hits[c], c == "en", c))
    if hits[best] == 0:
        return None, ""
    # Another language must be clearly ahead: two of its words and twice English's count.
    if best != "en" and hits[best] < max(2, 2 * hits["en"] + 1):
        # Not clearly another language: stay with English rather than hide an English complaint.
        return ("en", "English") if hits["en"] else (None, "")
    return best, _LANGUAGE_NAMES[best]
