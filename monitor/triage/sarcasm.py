"""Sarcasm: praise words stating a breached expectation ("great, another delay").

Riloff et al. (EMNLP 2013): sarcasm is positive sentiment next to a negative situation.
It is used as one more piece of complaint evidence (and it stops the praise from counting
against the complaint), not as a label flip.
"""

from __future__ import annotations

import re

from monitor.triage.aside import PIVOT
from monitor.triage.cues import CueReading
from monitor.triage.model import Evidence
from monitor.triage.settings import TriageSettings

# Praise that reads as sarcasm only when a failure is close by ("nice job" + "lost my order").
_CONDITIONAL = re.compile(
    r"\b(?:oh (?:great|good|joy|wonderful|nice)|just (?:great|perfect|wonderful|brilliant|fantastic)|"
    r"(?:gotta|got to|must|i just) love|love (?:how|that|it when|when)|"
    r"(?:nice|great|good|fantastic) (?:job|work|going)|"
    r"way to go|well done|bravo|thanks a lot|thanks again|what a (?:great|wonderful|fantastic|joy)|"
    # A bare "thanks," is left out: sincere thanks often mention the failure that was fixed.
    r"(?:great|awesome|perfect|fantastic|wonderful|brilliant|love|loving|nice|amazing|excellent)"
    r"(?:[.,!]+|\s+-+)(?:\s|$)|"
    # "Wow", "love it", "just what I needed": sarcastic only next to a failure (checked below).
    r"wow+|love it|loving it|just what i needed|exactly what i needed)",
    # No IGNORECASE: the text is already lower case.
)
# How far (characters) after praise a failure may start for the two to read as one sarcastic remark.
_WINDOW = 60


# Hashtags that declare sarcasm (``prepare`` keeps hashtags apart, without the '#').
_SARCASM_TAGS = ("sarcasm", "sarcastic", "not", "irony")


def sarcasm_marker(lower: str, cues: CueReading, hashtags: tuple[str, ...] = ()) -> str | None:
    """The sarcastic phrase in ``lower``, or None. Needs the cue reading for the contrast test."""
    for tag in _SARCASM_TAGS:
        if tag in hashtags:
            return f"#{tag}"
    if cues.sarcasm.tags:
        return cues.sarcasm.tags[0]
    # Persistence words ("another", "keep") are too common in sincere praise to count as the failure.
    situation = cues.failure.spans + cues.frustration.spans
    if not situation:
        return None
    feelings = cues.frustration.spans
    for m in _CONDITIONAL.finditer(lower):
        start, end = m.span()
        # The failure may come just before ("delayed again. great job") or after ("great, another delay").
        if any(end <= s <= end + _WINDOW for s, _ in situation):
            return m.group(0).strip(" .,!-")
        for s, e in situation:
            if start - _WINDOW <= e <= start:
                # A negative word, then a pivot, then praise is an aside about something else
                # ("the traffic was awful but the driver made it on time, great job").
                if (s, e) in feelings and PIVOT.search(lower, e, start):
                    continue
                return m.group(0).strip(" .,!-")
    return None


def sarcasm_evidence(marker: str | None, settings: TriageSettings) -> list[Evidence]:
    """One piece of complaint evidence for a sarcastic remark."""
    if not marker:
        return []
    return [Evidence("sarcasm", settings.weights.sarcasm, f"sarcasm: “{marker}”")]
