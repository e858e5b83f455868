"""Escalation terms from config (legal, safety, press, churn): each is a reason to look now."""

from __future__ import annotations

import re

from monitor.triage.model import Evidence


class EscalationTerms:
    """The configured terms compiled once into one whole-word, case-insensitive pattern."""

    def __init__(self, terms: list[str]) -> None:
        cleaned = sorted({t.strip().lower() for t in terms if t and t.strip()}, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in cleaned) + r")(?!\w)", re.IGNORECASE)
            if cleaned
            else None
        )

    def find(self, lower: str) -> tuple[str, ...]:
        """Distinct terms found in ``lower``, in order of appearance."""
        if self._pattern is None:
            return ()
        found: list[str] = []
        for m in self._pattern.finditer(lower):
            term = m.group(0).lower()
            if term not in found:
                found.append(term)
        return tuple(found)


def escalation_evidence(terms: tuple[str, ...], points: int) -> list[Evidence]:
    """Urgency points (once, however many terms) and a reason naming the terms."""
    if not terms:
        return []
    return [Evidence("escalation", points, "mentions " + ", ".join(terms[:3]))]
