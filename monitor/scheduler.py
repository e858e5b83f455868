"""Polls each source on its interval: backoff with jitter, health state, coverage gaps, leases.

Like Home Assistant's update coordinator, a source raises one well-named error
and this module decides what happens next. A state change (ok → degraded, …
→ ok) is logged once when it happens, not on every failed poll, and is kept in
the ``source_cursor`` row so ``mention-monitor sources``, metrics and operator
alerts all read the same truth. The time a source is blind is recorded as a
coverage gap, closed when it recovers.

Several instances on one database: a source is polled only by the holder of its
lease (``lease_owner``/``lease_until`` on its row). The holder extends the lease
with every page it stores and the daemon's heartbeat renews it in between; an
instance that dies or hangs stops renewing, and another one takes the source
over once the lease has run out (``service.takeover_after``, 15 s by default).
A database that goes away mid-poll loses nothing: the page and its cursor
advance commit together, so the page is fetched again once the database is back.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from monitor import metrics
from monitor.liveness import Loop, Outage
from monitor.pipeline import Clock, IngestResult, Pipeline, utcnow
from monitor.sources.base import BudgetExhausted, RateLimited, Source, SourceError
from monitor.store import claims
from monitor.store import models as m
from monitor.store.db import describe_error, insert_for

log = logging.getLogger(__name__)

MAX_BACKOFF = 900.0  # seconds; a failing source is still retried at least every 15 minutes
DB_MAX_BACKOFF = 30.0  # seconds between tries while the database is unreachable
# A lease lasts 60 % of service.takeover_after; instances without it retry every 20 %, so a dead
# holder's source is polled again within ~80 % of takeover_after.
LEASE_SHARE, RETRY_SHARE = 0.6, 0.2
AUTH_BACKOFF = 1800.0  # refused credentials rarely fix themselves; don't hammer the login


def instance_id() -> str:
    """Names this instance among several sharing one database.

    The host name by default, so a process restarted after a crash takes its own
    leases back at once; set MENTION_MONITOR_INSTANCE to run several on one host.
    Leases only save duplicate API calls: the database's unique keys already keep
    two pollers from storing or alerting anything twice.
    """
    return claims.instance_name()


def backoff_delay(
    error: BaseException, failures: int, interval: float, now: datetime, rng: random.Random
) -> float:
    """Seconds to wait after the ``failures``-th failure in a row (pure; pass ``now`` and ``rng``)."""
    if isinstance(error, RateLimited) and error.reset_at is not None:
        return max(1.0, (error.reset_at - now).total_seconds()) + rng.uniform(0, 2)
    if isinstance(error, BudgetExhausted) and error.resets_at is not None:
        return max(1.0, (error.resets_at - now).total_seconds())
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        return max(float(retry_after), 1.0) + rng.uniform(0, 1)
    if getattr(error, "state", "") == "auth_failed":
        return max(interval, AUTH_BACKOFF)
    base = min(interval * (2 ** max(0, failures - 1)), max(interval, MAX_BACKOFF))
    return base * rng.uniform(0.8, 1.2)


@dataclass
class PollOutcome:
    source: str
    pages: int = 0
    result: IngestResult = field(default_factory=IngestResult)
    state: str = "ok"
    error: str | None = None
    next_delay: float = 0.0
    skipped_lease: bool = False


class SourceRunner:
    """Owns one source's polling: fetch pages, hand them to the pipeline, keep its health."""

    def __init__(
        self,
        name: str,
        source: Source,
        pipeline: Pipeline,
        engine: Engine,
        *,
        clock: Clock = utcnow,
        owner: str | None = None,
        rng: random.Random | None = None,
        stop: threading.Event | None = None,
        takeover_after: float = 15.0,
        loop: Loop | None = None,
        outage: Outage | None = None,
    ) -> None:
        self.name = name
        self.source = source
        self.pipeline = pipeline
        self.engine = engine
        self.clock = clock
        self.owner = owner or claims.holder()
        self.lease_ttl = takeover_after * LEASE_SHARE
        self.retry_skipped = takeover_after * RETRY_SHARE
        self.loop = loop or Loop(f"source:{name}")
        self.outage = outage
        self.rng = rng or random.Random()
        self.stop = stop or threading.Event()
        self.interval = float(source.settings.interval)
        self._insert = insert_for(engine)

    # -- state row -------------------------------------------------------
    def _row(self, now: datetime) -> dict[str, Any]:
        table = m.SourceCursor.__table__
        with self.engine.begin() as conn:
            conn.execute(
                self._insert(table)
                .values(
                    source=self.name,
                    platform=self.source.platform,
                    cursor={},
                    state="ok",
                    state_since=now,
                    skipped={},
                    budget={},
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["source"])
            )
            return dict(conn.execute(select(table).where(table.c.source == self.name)).mappings().one())

    def _claim_lease(self, now: datetime, holder: str | None = None) -> bool:
        """Several instances on one database: only one polls a source at a time."""
        table = m.SourceCursor.__table__
        # Extended with every page and by the daemon's heartbeat; a dead or hung holder loses it
        # lease_ttl after its last renewal (sooner when it was an earlier process of this instance).
        until = now + timedelta(seconds=self.lease_ttl)
        free = [
            table.c.lease_owner.is_(None),
            table.c.lease_owner == self.owner,
            table.c.lease_until < now,
        ]
        if holder and claims.holder_dead(holder):
            free.append(table.c.lease_owner == holder)
        with self.engine.begin() as conn:
            res = conn.execute(
                update(table)
                .where(table.c.source == self.name, or_(*free))
                .values(lease_owner=self.owner, lease_until=until)
            )
            return res.rowcount == 1

    def renew_lease(self, now: datetime) -> bool:
        """Extend our lease (the heartbeat calls this between polls); False if we do not hold it."""
        table = m.SourceCursor.__table__
        with self.engine.begin() as conn:
            res = conn.execute(
                update(table)
                .where(table.c.source == self.name, table.c.lease_owner == self.owner)
                .values(lease_until=now + timedelta(seconds=self.lease_ttl))
            )
            return res.rowcount == 1

    def release(self) -> None:
        table = m.SourceCursor.__table__
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.source == self.name, table.c.lease_owner == self.owner)
                .values(lease_owner=None, lease_until=None)
            )

    # -- one poll --------------------------------------------------------
    def poll(self) -> PollOutcome:
        """Fetch until the source has no more pages now (or the page cap); store each page as it comes."""
        now = self.clock()
        outcome = PollOutcome(self.name)
        row = self._row(now)
        if not self._claim_lease(now, row.get("lease_owner")):
            outcome.skipped_lease = True
            outcome.state = row["state"]
            # Try again soon: the holder may be dead, and its lease runs out within lease_ttl.
            outcome.next_delay = min(self.interval, self.retry_skipped)
            return outcome
        if row.get("lease_owner") not in (None, self.owner):
            log.warning(
                "source %s: taking over from instance %s (its lease ran out)", self.name, row["lease_owner"]
            )
        cursor = dict(row["cursor"] or {})
        try:
            while True:
                page = self.source.fetch(cursor)
                outcome.pages += 1
                now = self.clock()
                update_values = {
                    "platform": self.source.platform,
                    "cursor": page.cursor,
                    "state": "ok",
                    "last_poll_at": now,
                    "last_success_at": now,
                    "consecutive_failures": 0,
                    "last_error": None,
                    "budget": self._budget_use(),
                    "next_poll_at": now + timedelta(seconds=self.interval),
                    "lease_until": now + timedelta(seconds=self.lease_ttl),
                }
                if row["state"] != "ok":
                    update_values["state_since"] = now
                stored = self.pipeline.ingest(
                    page.mentions, source=self.name, cursor_update=update_values, page=page
                )
                outcome.result.add(stored)
                self.loop.beat()
                for label, n in stored.labels.items():
                    metrics.MENTIONS_INGESTED.labels(self.name, label or "unscored").inc(n)
                cursor, more = page.cursor, page.more
                # The page's mentions and raw payloads go now, not when the next fetch returns.
                del page
                if row["state"] != "ok":
                    self._recovered(row, now)
                    row["state"] = "ok"
                if not more or self.stop.is_set():
                    outcome.next_delay = self.interval
                    break
                if outcome.pages >= self.source.settings.max_pages_per_poll:
                    # More is waiting: come back soon rather than after a whole interval.
                    outcome.next_delay = min(self.interval, 1.0)
                    break
        except SourceError as exc:
            return self._failed(row, exc, outcome, self.clock())
        except DBAPIError:
            raise  # the database, not the source: run() waits for it; the page is fetched again
        except Exception as exc:  # a bug or an unexpected payload: keep the daemon and other sources alive
            log.debug("source %s: unexpected error", self.name, exc_info=True)
            wrapped = SourceError(f"{self.name}: unexpected {type(exc).__name__}: {exc}")
            wrapped.__cause__ = exc
            return self._failed(row, wrapped, outcome, self.clock())
        outcome.state = "ok"
        return outcome

    def _budget_use(self) -> dict[str, Any]:
        """For ``mention-monitor sources``: requests in the last hour against the configured budget."""
        return {"requests_last_hour": self.source.budget.used(), "per_hour": self.source.budget.per_hour}

    def _failed(
        self, row: dict[str, Any], exc: SourceError, outcome: PollOutcome, now: datetime
    ) -> PollOutcome:
        failures = int(row["consecutive_failures"] or 0) + 1
        state = exc.state
        metrics.POLL_ERRORS.labels(self.name, state).inc()
        delay = backoff_delay(exc, failures, self.interval, now, self.rng)
        message = str(exc)
        values: dict[str, Any] = {
            "state": state,
            "last_poll_at": now,
            "last_error": message,
            "consecutive_failures": failures,
            "next_poll_at": now + timedelta(seconds=delay),
            "updated_at": now,
            "budget": self._budget_use(),
        }
        changed = row["state"] != state
        if changed:
            values["state_since"] = now
        table = m.SourceCursor.__table__
        gaps = m.CoverageGap.__table__
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.source == self.name).values(**values))
            open_gap = conn.execute(
                select(gaps.c.id).where(gaps.c.source == self.name, gaps.c.end.is_(None))
            ).first()
            if open_gap is None:
                conn.execute(
                    gaps.insert().values(
                        source=self.name, start=row["last_success_at"] or now, end=None, reason=message
                    )
                )
        if changed:
            cause = exc.__cause__
            detail = f" ({type(cause).__name__})" if cause and not isinstance(exc, type(cause)) else ""
            log.warning("source %s is %s: %s%s; next try in %.0fs", self.name, state, message, detail, delay)
        else:
            log.debug("source %s still %s (%d failures): %s", self.name, state, failures, message)
        outcome.state, outcome.error, outcome.next_delay = state, message, delay
        return outcome

    def _recovered(self, row: dict[str, Any], now: datetime) -> None:
        gaps = m.CoverageGap.__table__
        with self.engine.begin() as conn:
            conn.execute(update(gaps).where(gaps.c.source == self.name, gaps.c.end.is_(None)).values(end=now))
        since = row.get("state_since")
        blind = f" after {_duration((now - since).total_seconds())}" if since else ""
        log.info("source %s recovered%s (was %s)", self.name, blind, row["state"])

    # -- the thread ------------------------------------------------------
    def run(self) -> None:
        """Poll until ``stop`` is set; a poll in progress finishes its commit first."""
        self.stop.wait(self.rng.uniform(0, min(1.0, self.interval / 4)))  # don't start every source at once
        db_failures = 0
        while not self.stop.is_set():
            self.loop.busy()
            try:
                outcome = self.poll()
            except DBAPIError as exc:
                # Nothing of this poll was committed; the same page is fetched again once it is back.
                self.loop.idle()
                db_failures += 1
                metrics.POLL_ERRORS.labels(self.name, "database").inc()
                if self.outage is not None:
                    self.outage.failed(f"source {self.name}", describe_error(exc, self.engine.url))
                else:
                    log.error("source %s: %s", self.name, describe_error(exc, self.engine.url))
                delay = min(DB_MAX_BACKOFF, 0.5 * 2 ** min(db_failures, 8)) * self.rng.uniform(0.8, 1.2)
                self.stop.wait(delay)
                continue
            self.loop.idle()
            if db_failures and self.outage is not None:
                self.outage.ok()
            db_failures = 0
            if not outcome.skipped_lease:
                metrics.POLLS.labels(self.name).inc()
            if outcome.result.stored:
                log.info(
                    "source %s: %d new mention(s), %d alert(s)",
                    self.name,
                    outcome.result.stored,
                    outcome.result.alerts,
                )
            self.stop.wait(outcome.next_delay)
        try:
            self.release()
        except DBAPIError:  # stopping while the database is away: the lease simply runs out
            log.debug("source %s: could not release its lease", self.name, exc_info=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
