"""Repeat complainers: earlier complaints by the same author (from storage) raise urgency."""

from __future__ import annotations

from monitor.triage.model import AuthorHistory, Evidence


def history_evidence(
    history: AuthorHistory, per_24h: int, max_24h: int, total_points: int, total_min: int
) -> list[Evidence]:
    """Points per earlier complaint in 24 h (capped), or a smaller bump for a long-standing complainer."""
    if history.complaints_24h > 0:
        points = min(per_24h * history.complaints_24h, max_24h)
        nth = ordinal(history.complaints_24h + 1)
        return [Evidence("history", points, f"{nth} complaint in 24 h")]
    if history.complaints_total >= total_min:
        return [Evidence("history", total_points, f"has complained {history.complaints_total} times before")]
    return []


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
