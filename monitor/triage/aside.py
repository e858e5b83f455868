"""A negative aside about something else: "terrible weather today, but the brand got my parcel here on time".

The negative word is about the weather, the day, another company; the post is content with the
brand. That shows as a pivot ("but", "at least", "luckily"...) with only negative *words* before
it (no service failure anywhere) and praise after it. Then the negative sentiment, the
frustration cue and the persistence cue ("...but the courier *still* made it") do not count
against the brand.

A pivot that changes the subject ("anyway", "by the way") followed by a question is an aside
too: "ugh Mondays. anyway, can you tell me your opening hours?" is a plain question.
"""

from __future__ import annotations

import re

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


def negative_aside(lower: str, cues: CueReading) -> str | None:
    """The words of the aside (e.g. "terrible"), or None when the negativity may be about the brand."""
    if cues.failure.tags or cues.sarcasm.tags or cues.accusing_question.tags or cues.demand.tags:
        return None
    if not cues.praise.spans and not cues.question:
        return None
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
