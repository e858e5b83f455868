"""A negative aside about something else: "terrible weather today, but the brand got my parcel here on time".

The negative word is about the weather, the day, another company; the post is content with the
brand. That shows as a pivot ("but", "at least", "luckily"...) with only negative *words* before
it (no service failure anywhere) and praise after it. Then the negative sentiment, the
frustration cue and the persistence cue ("...but the courier *still* made it") do not count
against the brand.

A pivot that changes the subject ("anyway", "by the way") followed by a question is an aside
too: "ugh Mondays. anyway, can you tell me your opening hours?" is a plain question.

In a post not aimed at the brand, the sentence or clause that names it decides: "I hate
Mondays. Bought Acme coffee to cope" is negative about Mondays. When every negative word comes
before the clause naming the brand (after a full stop or a pivot) and that clause's tone is not
negative, the negativity is an aside too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from monitor.triage.cues import CueReading

# A change of subject counts only where a clause starts ("... by the way she spoke" is no pivot;
# "anyway to ..." is "any way to").
PIVOT = re.compile(
    r"\b(?:but|though|however|at least|luckily|thankfully|fortunately|thank god|thank goodness)\b"
    r"|(?:^|(?<=[.!?,;:]) ?)(?P<topic>anyway(?! to)|anyways|anyhow|by the way|btw|on another note"
    r"|on a (?:different|brighter|lighter) note)\b"
)
_QUESTION_AFTER = re.compile(
    r"\?|^[\s,.;:!-]*(?:can|could|how|what|when|where|which|who|will|would|is|are|do|does|did)\b"
)


# Where a clause ends: a full stop (not "...") or ";" before a space, or a pivot. An exclamation
# or a trailing "..." is usually a reaction to what follows ("Ugh... the store ran out").
_CLAUSE_END = re.compile(r"(?<!\.)\.(?=\s|$)|;(?=\s|$)|" + PIVOT.pattern)
# A retweet or quote marker: the comment before it is about the quoted post, which names the brand.
_QUOTED = re.compile(r"\b(?:rt|via)\b|//")


def negative_aside(
    lower: str, cues: CueReading, brand_at: int = -1, tone: Callable[[int], float] | None = None
) -> str | None:
    """The words of the aside (e.g. "terrible"), or None when the negativity may be about the brand.

    ``brand_at`` (only for posts not aimed at the brand) is where ``lower`` named it, and
    ``tone(start)`` the sentiment of ``lower[start:]``.
    """
    if cues.failure.tags or cues.sarcasm.tags or cues.accusing_question.tags or cues.demand.tags:
        return None
    if cues.praise.spans or cues.question:
        found = _pivot_aside(lower, cues)
        if found:
            return found
    if brand_at > 0:
        return _before_brand(lower, cues, brand_at, tone)
    return None


def brand_clause(lower: str, brand_at: int) -> int:
    """Where the clause naming the brand starts: the end of the last clause end before the name
    (-1 when the name is in the first clause)."""
    start = -1
    for m in _CLAUSE_END.finditer(lower, 0, brand_at):
        start = m.end()
    return start


def _before_brand(
    lower: str, cues: CueReading, brand_at: int, tone: Callable[[int], float] | None
) -> str | None:
    start = brand_clause(lower, brand_at)
    if start <= 0 or any(s >= start for s, _ in cues.frustration.spans) or _QUOTED.search(lower):
        return None
    if tone is not None and tone(start) < 0:
        return None
    before = [
        w for w, (s, _) in zip(cues.frustration.words, cues.frustration.spans, strict=False) if s < start
    ]
    return before[0] if before else lower[:start].strip(" ,.;!?") or None


def _pivot_aside(lower: str, cues: CueReading) -> str | None:
    for pivot in PIVOT.finditer(lower):
        at = pivot.start()
        if any(start > at for start, _ in cues.frustration.spans):
            return None
        praise_after = any(start > at for start, _ in cues.praise.spans)
        if not praise_after and not (pivot.group("topic") and _QUESTION_AFTER.search(lower, pivot.end())):
            continue
        before = [
            w
            for w, (start, _) in zip(cues.frustration.words, cues.frustration.spans, strict=False)
            if start < at
        ]
        return before[0] if before else lower[:at].strip(" ,.;") or None
    return None
