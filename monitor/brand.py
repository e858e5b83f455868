"""The brand being watched: its names, handles, search terms and what to ignore."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import Field

from monitor.configbase import ConfigModel


class BrandSettings(ConfigModel):
    """``brand:`` in the config file."""

    names: list[str] = Field(min_length=1, description="how people write the brand's name")
    # Per platform, the brand's own account handles, e.g. {"x": ["acme", "acmehelp"]}.
    handles: dict[str, list[str]] = Field(default_factory=dict)
    keywords: list[str] = Field(default_factory=list, description="extra search terms, e.g. product names")
    exclusions: list[str] = Field(default_factory=list, description="a mention containing one is noise")
    muted_authors: dict[str, list[str]] = Field(default_factory=dict)
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes to keep; empty = all")

    @property
    def terms(self) -> list[str]:
        """Every search term: names then keywords, without duplicates."""
        seen: dict[str, None] = {}
        for term in [*self.names, *self.keywords]:
            seen.setdefault(term, None)
        return list(seen)

    def own_handles(self, platform: str) -> set[str]:
        return {_norm_handle(h) for h in self.handles.get(platform, [])}

    def is_own(self, platform: str, handle: str | None) -> bool:
        return bool(handle) and _norm_handle(handle) in self.own_handles(platform)

    def is_muted(self, platform: str, handle: str | None) -> bool:
        muted = {_norm_handle(h) for h in self.muted_authors.get(platform, [])}
        return bool(handle) and _norm_handle(handle) in muted

    @cached_property
    def _exclusion_re(self) -> re.Pattern[str] | None:
        if not self.exclusions:
            return None
        return re.compile("|".join(rf"\b{re.escape(t)}\b" for t in self.exclusions), re.IGNORECASE)

    def excluded_term(self, text: str) -> str | None:
        """The exclusion term found in ``text``, if any."""
        pattern = self._exclusion_re
        match = pattern.search(text) if pattern else None
        return match.group(0) if match else None

    def language_wanted(self, language: str | None) -> bool:
        return not self.languages or language is None or language.split("-")[0].lower() in self.languages


def _norm_handle(handle: str) -> str:
    return handle.strip().lstrip("@").lower()
