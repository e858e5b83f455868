"""What every platform source is: settings, one ``fetch`` and a few well-named errors.

A source turns one API request (or a short run of them) into a :class:`Page` of
normalized mentions plus the cursor to persist once those mentions are stored.
It never sleeps, retries in a loop or logs a stack trace per poll: it raises one
of the errors below and the scheduler owns intervals, backoff and health state.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from monitor.configbase import ConfigModel
from monitor.mention import Mention

log = logging.getLogger(__name__)

# Seconds since the epoch, as time.time returns; tests pass their own.
Clock = Callable[[], float]


class SourceError(Exception):
    """Base of the errors a source raises for the scheduler to act on."""

    state = "degraded"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    """Network error, timeout or 5xx: try again later (``retry_after`` seconds if known)."""


class MalformedResponse(SourceError):
    """The whole response could not be understood (not JSON, wrong shape)."""


class RateLimited(SourceError):
    """The platform said stop until ``reset_at``."""

    state = "rate_limited"

    def __init__(self, message: str, *, reset_at: datetime | None = None, retry_after: float | None = None):
        super().__init__(message, retry_after=retry_after)
        self.reset_at = reset_at


class AuthFailed(SourceError):
    """Credentials were refused; polling again will not help until an operator acts."""

    state = "auth_failed"


class BudgetExhausted(SourceError):
    """The read budget from config is spent until ``resets_at``; a state, not a failure."""

    state = "budget_spent"

    def __init__(self, message: str, *, resets_at: datetime | None = None):
        super().__init__(message)
        self.resets_at = resets_at


@dataclass(slots=True)
class Gap:
    """A time range the source knows it could not cover (e.g. too many results to page)."""

    start: datetime
    end: datetime
    reason: str
    estimated_missed: int | None = None


@dataclass(slots=True)
class Page:
    """What one ``fetch`` returns.

    ``cursor`` is persisted in the same transaction as ``mentions``; ``more``
    says another page is ready now (the scheduler fetches it in the same poll,
    up to ``max_pages_per_poll``). ``skipped`` counts items left out, by reason.
    """

    mentions: list[Mention]
    cursor: dict[str, Any]
    more: bool = False
    skipped: Counter[str] = field(default_factory=Counter)
    gaps: list[Gap] = field(default_factory=list)
    requests: int = 1
    # Posts read from the platform (billed on some platforms, e.g. X), kept or not.
    items_read: int = 0


class RequestBudget:
    """``request_budget_per_hour`` from config, as a rolling hour of request times.

    Kept in memory: after a restart the budget starts full again, which at worst
    spends one extra hour's budget, never misses a mention.
    """

    def __init__(self, per_hour: int | None, clock: Clock = time.time) -> None:
        self.per_hour = per_hour
        self._clock = clock
        self._sent: deque[float] = deque()

    def used(self) -> int:
        """Requests made in the last hour."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - 3600:
            self._sent.popleft()
        return len(self._sent)

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


class SourceSettings(ConfigModel):
    """Settings every source accepts; a platform extends this with its own keys."""

    platform: str | None = Field(default=None, description="platform module; defaults to the source's name")
    enabled: bool = True
    interval: float = Field(default=60.0, ge=10, description="seconds between polls")
    api_base: str | None = Field(default=None, description="API base URL (proxy, self-hosted, tests)")
    timeout: float = Field(default=20.0, gt=0, le=300, description="seconds per HTTP request")
    max_pages_per_poll: int = Field(default=10, ge=1, le=1000)
    # Requests per rolling hour this source may make; None means only the platform's limits.
    request_budget_per_hour: int | None = Field(default=None, ge=1)

    # Optional fields the source cannot poll without once enabled (checked by the config loader).
    required_when_enabled: ClassVar[tuple[str, ...]] = ()


class Source(ABC):
    """One platform account or search, polled by the scheduler.

    Subclasses set ``platform`` and ``Settings`` and implement :meth:`fetch`.
    """

    platform: ClassVar[str]
    Settings: ClassVar[type[SourceSettings]] = SourceSettings
    default_api_base: ClassVar[str | None] = None

    def __init__(
        self, name: str, settings: SourceSettings, brand: Any, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.name = name
        self.settings = settings
        self.brand = brand
        # ``request_budget_per_hour``: every HTTP request the source makes calls budget.spend().
        self.budget = RequestBudget(settings.request_budget_per_hour, clock)

    @property
    def api_base(self) -> str | None:
        return (self.settings.api_base or self.default_api_base or "").rstrip("/") or None

    @abstractmethod
    def fetch(self, cursor: dict[str, Any]) -> Page:
        """Fetch the next page after ``cursor`` (``{}`` on the very first poll)."""

    def skip_malformed(self, skipped: Counter[str], where: str, ident: object, exc: Exception) -> None:
        """Count and log one item that could not be read; the rest of the page goes on."""
        skipped["malformed"] += 1
        log.warning(
            "%s: skipped an unreadable item %s from %s: %s: %s",
            self.name,
            ident,
            where,
            type(exc).__name__,
            exc,
        )

    def close(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing to close
        """Release connections; called once at shutdown."""
