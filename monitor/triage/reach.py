"""Author reach: a complaint from a large audience spreads; follower count adds urgency."""

from __future__ import annotations

import math

from monitor.triage.model import Evidence


def reach_evidence(followers: int | None, high: int, very_high: int, max_points: int) -> list[Evidence]:
    """Half of ``max_points`` at ``high`` followers, all of it at ``very_high``, log-scaled between."""
    if not followers or followers < high or max_points <= 0:
        return []
    if followers >= very_high or very_high <= high:
        points = max_points
    else:
        span = math.log(very_high) - math.log(max(high, 1))
        share = (math.log(followers) - math.log(max(high, 1))) / span if span > 0 else 1.0
        points = round(max_points * (0.5 + 0.5 * share))
    return [Evidence("reach", points, f"author has {human_count(followers)} followers")]


def human_count(n: int) -> str:
    """48000 -> '48k', 1250000 -> '1.2M'."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1000:
        return f"{n // 1000}k"
    return str(n)
