"""Bookkeeping shared by the search-style sources: rounds over streams, seen ids, the request budget.

A source that searches several things per poll (Reddit posts, comments and inbox;
Hacker News one query per brand term) reads one page of one *stream* per ``fetch``.
The cursor lists the streams still to read in the current round, so a restart
resumes the round instead of skipping a stream. Each stream keeps the ids it saw
inside the overlap window, so re-reading that window for late or skewed posts
does not hand the same mention to the scheduler twice.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from monitor.sources.base import BudgetExhausted

Clock = Callable[[], float]


def round_todo(saved: object, streams: Iterable[str]) -> list[str]:
    """The streams left in this round: the saved list (minus streams no longer configured) or all."""
    wanted = list(streams)
    todo = [s for s in saved if s in wanted] if isinstance(saved, list) else []
    return todo or wanted


def prune_seen(seen: dict[str, float], floor: float) -> dict[str, float]:
    """Keep the ids created at or after ``floor``: older ones can no longer come back in a search."""
    return {key: t for key, t in seen.items() if t >= floor}


class RequestBudget:
    """``request_budget_per_hour`` from config, as a rolling hour of request times.

    Kept in memory: after a restart the budget starts full again, which at worst
    spends one extra hour's budget, never misses a mention.
    """

    def __init__(self, per_hour: int | None, clock: Clock = time.time) -> None:
        self.per_hour = per_hour
        self._clock = clock
        self._sent: deque[float] = deque()

    def spend(self, source: str) -> None:
        """Count one request, or raise :class:`BudgetExhausted` if the hour's budget is used up."""
        if self.per_hour is None:
            return
        now = self._clock()
        while self._sent and self._sent[0] <= now - 3600:
            self._sent.popleft()
        if len(self._sent) >= self.per_hour:
            resets_at = datetime.fromtimestamp(self._sent[0] + 3600, UTC)
            raise BudgetExhausted(
                f"{source}: request budget of {self.per_hour}/hour spent; next request allowed at "
                f"{resets_at:%H:%M:%S} UTC (raise request_budget_per_hour to poll more)",
                resets_at=resets_at,
            )
        self._sent.append(now)
