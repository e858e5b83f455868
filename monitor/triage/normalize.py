"""Text preparation before any lexicon: strip URLs, handles and brand names, keep what cues need."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# Long posts are cut before scoring: complaints state themselves early, and the lexicons are
# linear in length, so a 100k-character paste must not stall the pipeline.
MAX_CHARS = 2_000

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# ".@brand" is the old trick to make a reply public; "(?<!\w)" leaves e-mail addresses alone.
_HANDLE = re.compile(r"(?<!\w)\.?@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_SPACE = re.compile(r"\s+")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


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
    truncated: bool


def brand_pattern(brand_terms: list[str] | None) -> re.Pattern[str] | None:
    """One case-insensitive whole-word pattern for the brand's names, or None without any."""
    terms = sorted({t.strip() for t in brand_terms or [] if t and t.strip()}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile(r"(?<!\w)#?(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)


def prepare(text: str | None, brand: re.Pattern[str] | None = None) -> PreparedText:
    """Prepare ``text`` for scoring; never raises on odd input (None, empty, very long)."""
    raw = text or ""
    truncated = len(raw) > MAX_CHARS
    if truncated:
        raw = raw[:MAX_CHARS]
    raw = html.unescape(raw)
    url_count = len(_URL.findall(raw))
    body = _URL.sub(" ", raw)
    handle_count = len(_HANDLE.findall(body))
    body = _HANDLE.sub(" ", body)
    if brand is not None:
        # Brand names collide with lexicon entries ("Delta", "Target", "Virgin"): drop them.
        body = brand.sub(" ", body)
    hashtags = tuple(h.lower() for h in _HASHTAG.findall(body))
    body = _HASHTAG.sub(r"\1", body)
    clean = _SPACE.sub(" ", body).strip()
    words = _WORD.findall(clean)
    return PreparedText(
        clean=clean,
        lower=clean.lower(),
        hashtags=hashtags,
        url_count=url_count,
        handle_count=handle_count,
        caps_words=len(_CAPS_WORD.findall(clean)),
        word_count=len(words),
        truncated=truncated,
    )
