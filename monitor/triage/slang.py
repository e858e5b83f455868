"""Slang praise: "wicked fast", "the new app is sick!", "killer deal", "insane value".

Lexicons read these words as negative, so a fan's post would be a complaint. When one of them
qualifies a product word or closes an exclamation, and the post names no failure, it is
praise: the negative sentiment and the frustration cue it raised are dropped and a praise
reason quotes the words.
"""

from __future__ import annotations

import re

from monitor.triage.cues import CueReading
from monitor.triage.model import Evidence
from monitor.triage.settings import TriageSettings

_WORDS = r"(?:wicked|sick|killer|insane(?:ly)?|crazy|mental|filthy|dope|unreal|stupid|ridiculous(?:ly)?)"
# Closing a sentence ("this is ridiculous!"), these read as complaints far more often than as praise.
_BARE = r"(?:wicked|sick|killer|insane(?:ly)?|mental|filthy|dope|unreal)"
_SLANG = re.compile(
    rf"\b{_WORDS} (?:good|fast|quick|cheap|smooth|comfy|comfortable|tasty|deal|deals|price|prices"
    r"|quality|value"
    r"|service|app|update|sound|camera|battery|design|food|job|work|customer service|support)\b"
    rf"|\b(?:is|was|are|were|looks|look|sounds|so|it's|that's) (?:so |pretty |absolutely |just )?{_BARE}"
    r"(?=\s*(?:[!.,🔥😍🙌]|$))"
    r"|\b(?:killing it|killed it|slaps|goes hard|is fire|is lit)\b"
)

# Substrings one of which every slang phrase contains: most posts skip the regex.
_HINTS = (
    "wick",
    "sick",
    "kill",
    "insan",
    "crazy",
    "mental",
    "filthy",
    "dope",
    "unreal",
    "stupid",
    "ridic",
    "slaps",
    "hard",
    "fire",
    "lit",
)


def slang_praise(lower: str, cues: CueReading) -> str | None:
    """The slang praise phrase in ``lower``, or None (also None when the post names a failure)."""
    if cues.failure.tags or cues.sarcasm.tags or not any(h in lower for h in _HINTS):
        return None
    m = _SLANG.search(lower)
    return m.group(0) if m else None


def slang_evidence(phrase: str | None, settings: TriageSettings) -> list[Evidence]:
    """Praise evidence for slang praise."""
    if not phrase:
        return []
    return [Evidence("slang", -settings.weights.praise, f"slang praise: “{phrase}”")]
