"""Language gate: English lexicons score other languages as 0, so those must not pass as neutral.

The platform's language field wins. Without one, a small offline guess is used; it needs no model
file and no download: the script (kana makes Han text Japanese, and so does a phrase of the
Japanese table), then common function words of a few Latin-script languages together with the
phrases of the seven phrase tables ("stürzt ständig ab", "endommagé"), then, for a post with no
English function word, letters and function words of other Latin-script languages (Polish "nie",
"ł") that say "not English" without saying which. When the guess is unsure the text is scored as
English and the verdict says the language is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.triage.multilingual import NAMES, MultilingualCues
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
            "nie",
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
            "aan",
            "bij",
            "ook",
        ]
    ),
}
_OTHER_FUNCTION_WORDS = frozenset().union(*(v for code, v in _FUNCTION_WORDS.items() if code != "en"))
# Names for the reasons ("language Polish not scored"); a code not listed is quoted as given.
_LANGUAGE_NAMES = {
    "en": "English",
    **NAMES,
    "zh": "Chinese",
    "ko": "Korean",
    "ru": "Russian",
    "uk": "Ukrainian",
    "el": "Greek",
    "he": "Hebrew",
    "ar": "Arabic",
    "fa": "Persian",
    "hi": "Hindi",
    "th": "Thai",
    "pl": "Polish",
    "cs": "Czech",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "nb": "Norwegian",
    "fi": "Finnish",
    "tr": "Turkish",
    "ro": "Romanian",
    "hu": "Hungarian",
    "ca": "Catalan",
    "id": "Indonesian",
    "ms": "Malay",
    "tl": "Tagalog",
    "vi": "Vietnamese",
}
# Function words of Latin-script languages without a phrase table (Polish, Czech, Scandinavian,
# Turkish, Romanian, Hungarian, Indonesian, Tagalog), none of them an English word: with no English
# function word, they say "not English".
_NOT_ENGLISH_WORDS = frozenset(
    [
        "nie",
        "się",
        "jest",
        "że",
        "nikt",
        "mnie",
        "już",
        "bardzo",
        "czy",
        "jsem",
        "není",
        "och",
        "inte",
        "jag",
        "ikke",
        "jeg",
        "og",
        "değil",
        "bir",
        "çok",
        "için",
        "și",
        "este",
        "pentru",
        "nem",
        "hogy",
        "és",
        "yang",
        "tidak",
        "saya",
        "untuk",
        "dengan",
        "sudah",
        "belum",
        "ang",
        "mga",
        "hindi",
        "ako",
    ]
)
# Latin letters English does not use (ł, ó, ß, ñ, ç …): words with them, with no English function
# word around, are read as another language. A loan word or a name (café, José) is one such word;
# it takes two.
_FOREIGN_LETTER = re.compile(r"[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")
_ASCII_LETTER = re.compile(r"[a-z]")
_NOT_ENGLISH = "a language other than English"
# Kana (not the middle dot or the long-vowel mark): Han text with kana is Japanese, not Chinese.
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")
_CUES = MultilingualCues()
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
        if name:
            # Not English, and none of the languages with a code here: a human reads it.
            return LanguageDecision(None, False, f"looks like {name} (guessed), not scored: needs a human")
        if text.word_count >= MIN_WORDS_TO_GUESS:
            return LanguageDecision(None, True, "language unknown, scored as English")
        return LanguageDecision(None, True, "")
    if code in accepted:
        return LanguageDecision(code, True, "")
    return LanguageDecision(code, False, f"looks like {name} (guessed), not scored: needs a human")


def guess_language(text: str, words: Sequence[str] | None = None) -> tuple[str | None, str]:
    """(code, name) by script, common words and phrase tables, or (None, "") when unsure.

    (None, "another language") when the text is not English but no code can be told (a Latin-script
    language without a phrase table). ``words`` are the lower-case words of ``text`` if the caller
    has them already.
    """
    non_latin = _NON_LATIN.findall(text)
    if non_latin:
        letters = sum(1 for c in text if c.isalpha())
        if len(non_latin) * 2 >= letters:
            return _by_script(text, non_latin)
    if words is None:
        words = _WORD.findall(text.lower())
    if not words:
        return None, ""
    distinct = set(words)
    english = len(distinct & _FUNCTION_WORDS["en"])
    if english >= 2 and len(words) >= MIN_WORDS_TO_GUESS and distinct.isdisjoint(_OTHER_FUNCTION_WORDS):
        # Most English posts: no other language's function word, two of English's. One set test
        # instead of seven, and no phrase scan.
        return "en", "English"
    hits = {code: len(vocab & distinct) for code, vocab in _FUNCTION_WORDS.items() if code != "en"}
    if english == 0 and "die" in distinct:
        # German's most common article is left out of its list (an English word); with no English
        # function word around it counts ("die App stürzt ständig ab", "die Rechnung stimmt nicht").
        hits["de"] += 1
    phrases = _CUES.phrase_support(text.lower()) if english <= 1 else {}
    for code, points in phrases.items():
        hits[code] += points
    # Deterministic tie-break: score, then code.
    best = max(hits, key=lambda c: (hits[c], c))
    if len(words) >= MIN_WORDS_TO_GUESS:
        # Another language must be clearly ahead: two of its words (a phrase counts as up to two)
        # and twice English's count.
        if hits[best] >= max(2, 2 * english + 1):
            return best, _LANGUAGE_NAMES[best]
    elif phrases.get(best, 0) >= 2 or (english == 0 and best in phrases and hits[best] >= 2):
        # Too short for function words alone: a phrase of several words or with a letter English
        # does not use ("no funciona", "péssimo"), or a plain one and a second word of the same
        # language ("sono molto deluso").
        return best, _LANGUAGE_NAMES[best]
    if english == 0:
        others = len(distinct & _NOT_ENGLISH_WORDS)
        foreign = others + sum(1 for w in distinct if _foreign_word(w))
        if foreign >= 2 and (others or len(words) >= MIN_WORDS_TO_GUESS):
            return None, _NOT_ENGLISH
    if english and len(words) >= MIN_WORDS_TO_GUESS:
        # Not clearly another language: stay with English rather than hide an English complaint.
        return "en", "English"
    return None, ""


def _foreign_word(word: str) -> bool:
    """A word with a letter English does not use and a plain one ("dotarło", not the "ûï" of a
    text decoded with the wrong code page)."""
    return bool(_FOREIGN_LETTER.search(word)) and bool(_ASCII_LETTER.search(word))


def _by_script(text: str, letters: list[str]) -> tuple[str, str]:
    """The script most of the non-Latin letters are in; Han with kana, or with a phrase of the
    Japanese table, is Japanese (kanji-heavy posts: 「詐欺です。弁護士に相談します」)."""
    counts: dict[tuple[str, str], int] = {}
    for ch in letters:
        cp = ord(ch)
        for (lo, hi), code, name in _SCRIPT_NAMES:
            if lo <= cp <= hi:
                counts[(code, name)] = counts.get((code, name), 0) + 1
                break
    (code, name), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if code == "zh" and (_KANA.search(text) or _CUES.japanese_phrase(text)):
        return "ja", "Japanese"
    return code, name
