"""Noise screening for the search-style sources (Reddit, Hacker News): why an item is not a mention.

Search APIs return more than mentions: the brand's own posts, reposts, typo- or
stem-tolerant matches that never name the brand, posts with excluded terms and
muted authors. Each platform module turns an item into text + author and asks
:class:`NoiseScreen` for a reason to skip it; the reasons end up in ``Page.skipped``.
"""

from __future__ import annotations

import re

from monitor.brand import BrandSettings

# The reasons a source counts in ``Page.skipped``; stable names, used in metrics.
OWN = "own_post"
REPOST = "repost"
MUTED = "muted_author"
EXCLUDED = "excluded_term"
NO_TERM = "no_brand_term"
DELETED = "deleted"
SEEN = "already_seen"
MALFORMED = "malformed"


def term_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern matching any term as a whole word (spaces match any whitespace)."""
    parts = [r"\s+".join(re.escape(word) for word in term.split()) for term in terms if term.strip()]
    if not parts:
        return None
    # Lookarounds instead of \b so terms that start or end in punctuation ("C++", ".NET") still match.
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


class NoiseScreen:
    """The noise rules of one brand on one platform."""

    def __init__(self, brand: BrandSettings, platform: str) -> None:
        self.brand = brand
        self.platform = platform
        self._terms = term_pattern(brand.terms)

    def names_brand(self, text: str) -> bool:
        """True when ``text`` really contains a brand term (search engines also return near misses)."""
        return self._terms is not None and self._terms.search(text) is not None

    def reason(
        self, *, author: str | None, text: str, repost: bool = False, require_term: bool = True
    ) -> str | None:
        """Why this item is noise, or ``None`` when it is a mention worth keeping.

        ``require_term=False`` for items the platform already says are aimed at
        the brand (an inbox @-mention), which need not spell the brand's name.
        """
        if self.brand.is_own(self.platform, author):
            return OWN
        if repost:
            return REPOST
        if self.brand.is_muted(self.platform, author):
            return MUTED
        if self.brand.excluded_term(text):
            return EXCLUDED
        if require_term and not self.names_brand(text):
            return NO_TERM
        return None
