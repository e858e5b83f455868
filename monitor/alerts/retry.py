"""Backoff arithmetic for failed deliveries: bounded exponential with jitter — pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.alerts.settings import RetrySettings


def retry_delay(attempts: int, retry: RetrySettings, rand: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1-based); ``rand`` in [0, 1).

    Doubling from ``base_delay`` up to ``max_delay``, then ±20 % jitter so many alerts that
    failed together (a chat service outage) do not retry in lock-step.
    """
    exponent = max(attempts - 1, 0)
    # Cap the exponent before the power: 2**100 × base would overflow float arithmetic.
    delay = min(retry.max_delay, retry.base_delay * 2 ** min(exponent, 40))
    return delay * (0.8 + 0.4 * rand)


def next_attempt(attempts: int, retry: RetrySettings, now: datetime, rand: float) -> datetime | None:
    """When to try again, or None when ``max_attempts`` are used up (the delivery gives up)."""
    if attempts >= retry.max_attempts:
        return None
    return now + timedelta(seconds=retry_delay(attempts, retry, rand))
