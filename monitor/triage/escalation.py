"""Escalation terms from config (legal, safety, press, churn): each is a reason to look now."""

from __future__ import annotations

import re

from monitor.triage.model import Evidence


def escalation_cues(terms: list[str]) -> list[tuple[str, str]]:
    """The configured terms as one whole-word cue for :class:`~monitor.triage.cues.CueSet`."""
    # '#' and '@' are stripped from posts before cues are read, so they are stripped here too.
    cleaned = sorted(
        {t.strip().lower().lstrip("#@") for t in terms if t and t.strip("#@ ")}, key=len, reverse=True
    )
    if not cleaned:
        return []
    return [("", r"\b(?:" + "|".join(re.escape(t) for t in cleaned) + r")(?!\w)")]


def escalation_evidence(terms: tuple[str, ...], points: int) -> list[Evidence]:
    """Urgency points (once, however many terms) and a reason naming the terms."""
    if not terms:
        return []
    return [Evidence("escalation", points, "mentions " + ", ".join(terms[:3]))]
