"""Honour a platform's rate-limit headers before it has to answer 429.

Every response tells how many requests are left in the window and when it
resets; once ``remaining`` reaches 0 the next request is bound to be refused,
so :class:`RateLimitGate` raises :class:`RateLimited` instead of sending it.
Buckets are named because some platforms meter some calls separately (Bluesky
logins have their own small daily budget).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from monitor import metrics
from monitor.sources.base import RateLimited
from monitor.sources.http import RateLimitReader

Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RateLimitGate:
    """Remembers, per bucket, when the platform said the window is used up."""

    def __init__(self, source: str, reader: RateLimitReader, now: Now = _utcnow) -> None:
        self.source = source
        self.reader = reader
        self._now = now
        self._closed_until: dict[str, datetime] = {}

    def observe(self, response: httpx.Response, bucket: str = "default") -> None:
        """Read the headers of a response (any status) that was metered in ``bucket``."""
        remaining, reset_at = self.reader(response)
        if remaining is not None:
            metrics.RATE_LIMIT_REMAINING.labels(self.source, bucket).set(remaining)
        if remaining is not None and remaining <= 0 and reset_at is not None:
            self._closed_until[bucket] = reset_at
        elif remaining is not None and remaining > 0:
            self._closed_until.pop(bucket, None)

    def check(self, bucket: str = "default") -> None:
        """Raise :class:`RateLimited` if ``bucket`` is known to be empty until a reset still ahead."""
        until = self._closed_until.get(bucket)
        if until is None:
            return
        now = self._now()
        if until <= now:
            del self._closed_until[bucket]
            return
        raise RateLimited(
            f"{self.source}: no requests left in the platform's {bucket} rate-limit window "
            f"until {until:%H:%M:%S} UTC; not sending one to be refused",
            reset_at=until,
            retry_after=(until - now).total_seconds(),
        )
