"""Text preparation before any lexicon: strip URLs, handles and brand names, keep what cues need."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from monitor.triage.alternation import factor

# Long posts are cut before scoring: complaints state themselves early, and the lexicons are
# linear in length, so a 100k-character paste must not stall the pipeline.
MAX_CHARS = 2_000

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# ".@brand" is the old trick to make a reply public; "(?<!\w)" leaves e-mail addresses alone.
_HANDLE = re.compile(r"(?<!\w)\.?@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# The same words in lower-case ASCII text, where a letter is a-z (a plain range scans faster).
_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True, slots=True)
class PreparedText:
    """One mention's text in the forms the signals read."""

    # Handles, URLs and brand terms removed, entities decoded, '#' dropped: what lexicons score.
    clean: str
    # ``clean`` in lower case, for cue patterns.
    lower: str
    hashtags: tuple[str, ...]
    url_count: int
    handle_count: int
    # Words written in capitals (3+ letters), e.g. "NOBODY ANSWERS"; acronyms are common, so a ratio.
    caps_words: int
    word_count: int
    # The words of ``lower`` (letters and apostrophes), for the language guess.
    words: tuple[str, ...]
    truncated: bool
    # The @handles that were removed, as written (without '@'): severity looks for regulators.
    handles: tuple[str, ...] = ()
    # Whether one of the brand's names occurred in the text (None when no brand terms were given).
    brand_named: bool | None = None
    # Where in ``lower`` the first of the brand's names was (-1 when none): which clause names it.
    brand_at: int = -1


class BrandMatcher:
    """The brand's names as one case-insensitive whole-word pattern, with a cheap substring pre-check."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
        self._lower = tuple(t.lower() for t in self.terms)
        body = "|".join(re.escape(t) for t in self.terms)
        self._pattern = re.compile(r"(?<!\w)#?(?:" + body + r")(?!\w)", re.IGNORECASE)
        # For ASCII text: the lower-case terms as a first-character trie, run on the lower-case
        # text (same length, same positions) without case folding at every position.
        lower_body = factor("(?:" + "|".join(re.escape(t) for t in self._lower) + ")")
        self._lower_pattern = re.compile(r"(?<!\w)#?" + lower_body + r"(?!\w)")
        # Case folding of non-ASCII letters is not lower-casing ("İ" folds to "i" but lowers to
        # "i̇"): the trie path is taken only when both the terms and the text are ASCII.
        self._ascii = all(t.isascii() for t in self.terms)

    def first(self, text: str) -> int:
        """Where the first of the brand's names starts in ``text`` (-1 when none does)."""
        m = self._pattern.search(text)
        return m.start() if m else -1

    def sub(self, text: str, lower: str) -> str:
        """``text`` with every brand term replaced by a space (``lower`` is ``text.lower()``)."""
        # Most posts name the brand once or not at all: skip the regex when no term occurs.
        if not any(t in lower for t in self._lower):
            return text
        if not (self._ascii and text.isascii()):
            return self._pattern.sub(" ", text)
        spans = [m.span() for m in self._lower_pattern.finditer(lower)]
        if not spans:
            return text
        parts, at = [], 0
        for start, end in spans:
            parts += (text[at:start], " ")
            at = end
        parts.append(text[at:])
        return "".join(parts)


def brand_pattern(brand_terms: list[str] | None) -> BrandMatcher | None:
    """A matcher for the brand's names, or None without any."""
    matcher = BrandMatcher(brand_terms or [])
    return matcher if matcher.terms else None


def prepare(text: str | None, brand: BrandMatcher | None = None) -> PreparedText:
    """Prepare ``text`` for scoring; never raises on odd input (None, empty, very long)."""
    raw = text or ""
    truncated = len(raw) > MAX_CHARS
    if truncated:
        raw = raw[:MAX_CHARS]
    # Each step is skipped when its trigger character is absent: this runs once per mention.
    if "&" in raw:
        raw = html.unescape(raw)
    low = raw.lower()
    body, url_count = _URL.subn(" ", raw) if ("http" in low or "www." in low) else (raw, 0)
    handles: tuple[str, ...] = ()
    if "@" in body:
        handles = tuple(h.lstrip(".@") for h in _HANDLE.findall(body))
        body, handle_count = _HANDLE.subn(" ", body)
    else:
        handle_count = 0
    brand_named: bool | None = None
    brand_at = -1
    if brand is not None:
        # Brand names collide with lexicon entries ("Delta", "Target", "Virgin"): drop them.
        stripped = brand.sub(body, body.lower())
        brand_named = stripped != body
        if brand_named:
            # The same steps as below on the text before the name: its length is where it was.
            # A hashtag names the post's topic, not one clause's: left at -1.
            first = brand.first(body)
            if body[first] != "#":
                before = _HASHTAG.sub(r"\1", body[:first]) if "#" in body else body[:first]
                brand_at = len(" ".join(before.split()))
        body = stripped
    hashtags: tuple[str, ...] = ()
    if "#" in body:
        hashtags = tuple(h.lower() for h in _HASHTAG.findall(body))
        body = _HASHTAG.sub(r"\1", body)
    clean = " ".join(body.split())
    lower = clean.lower()
    words = tuple((_ASCII_WORD if lower.isascii() else _WORD).findall(lower))
    return PreparedText(
        clean=clean,
        lower=lower,
        hashtags=hashtags,
        url_count=url_count,
        handle_count=handle_count,
        caps_words=len(_CAPS_WORD.findall(clean)) if clean != lower else 0,
        word_count=len(words),
        words=words,
        truncated=truncated,
        handles=handles,
        brand_named=brand_named,
        brand_at=brand_at,
    )
