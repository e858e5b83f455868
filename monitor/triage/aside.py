"""A negative aside about something else: "terrible weather today, but the brand got my parcel here on time".

The negative word is about the weather, the day, another company; the post is content with the
brand. That shows as a pivot ("but", "at least", "luckily"...) with only negative *words* before
it (no service failure anywhere) and praise after it. Then the negative sentiment and the
frustration cue do not count against the brand.
"""

from __future__ import annotations

import re

from monitor.triage.cues import CueReading

_PIVOT = re.compile(
    r"\b(?:but|though|however|at least|luckily|thankfully|fortunately|thank god|thank goodness)\b"
)


def negative_aside(lower: str, cues: CueReading) -> str | None:
    """The words of the aside (e.g. "terrible"), or None when the negativity may be about the brand."""
    if not cues.praise.spans or cues.failure.tags or cues.sarcasm.tags or cues.accusing_question.tags:
        return None
    if cues.demand.tags:
        return None
    pivot = _PIVOT.search(lower)
    if pivot is None:
        return None
    at = pivot.start()
    praise_after = any(start > at for start, _ in cues.praise.spans)
    frustration_after = any(start > at for start, _ in cues.frustration.spans)
    if not praise_after or frustration_after:
        return None
    before = [
        w for w, (start, _) in zip(cues.frustration.words, cues.frustration.spans, strict=False) if start < at
    ]
    return before[0] if before else lower[:at].strip(" ,.;") or None
