"""The sender: posts due replies from the outbox, once, and records what the platform answered.

One reply at a time per process: claim (committed) → look for it on the platform
if a previous attempt may have reached it → post → record the platform's id and
URL with the mention's bookkeeping in one commit. Retries are bounded
(``responder.max_attempts``, exponential back-off with jitter); a 429 waits until
the platform's reset and does not use up an attempt; a definite refusal
(deleted post, suspended account, expired token, read-only platform) fails the
reply at once with the platform's reason on the mention. The daemon runs
:meth:`Sender.run` in a thread; ``mention-monitor replies --send`` runs one pass.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from monitor import metrics, workflow
from monitor.responder import accounts, outbox
from monitor.responder.base import (
    Posted,
    Replier,
    ReplyError,
    ReplyRateLimited,
)
from monitor.store import claims
from monitor.store import models as m
from monitor.store.db import describe_error

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# 429s on one reply before it is given up (each waits for the platform's reset).
MAX_RATE_LIMITED = 20
DEFAULT_RATE_WAIT = 60.0
JOB_INTERVAL = 30.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class Sender:
    """Sends due replies; one per :meth:`send_one` call, all due ones per :meth:`send_due`."""

    def __init__(
        self,
        engine: Engine,
        config: Any,
        *,
        clock: Clock = utcnow,
        rand: Callable[[], float] = random.random,
        transport: Any = None,
        jobs: bool = True,
    ) -> None:
        self.engine = engine
        self.config = config
        self.settings = config.responder
        self.clock = clock
        self.rand = rand
        self.transport = transport
        self.jobs = jobs
        self.owner = claims.holder()
        self.outage: Any = None  # the daemon's database-outage tracker (says an outage once, not per second)
        self.ttl = max(outbox.MIN_CLAIM_TTL, 3 * self.settings.send_timeout)
        self._repliers: dict[str, Replier] = {}
        self._paused: dict[str, datetime] = {}  # source → rate-limit reset
        self._recovered = False
        self._last_recover = 0.0
        # The daemon shortens this (with ttl) so a dead instance's replies are taken over within
        # service.takeover_after; its heartbeat renews live claims.
        self.recover_every = JOB_INTERVAL
        self._wake = threading.Event()
        self._last_jobs: float | None = None

    # -- the daemon's interface --------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Send and run the auto-acknowledge job until ``stop`` is set (checks at least every second)."""
        log.info("responder started")
        while not stop.is_set():
            try:
                self._wake.clear()
                if self.jobs:
                    now_mono = time.monotonic()
                    if self._last_jobs is None or now_mono - self._last_jobs >= JOB_INTERVAL:
                        self._last_jobs = now_mono
                        self.run_jobs()
                while not stop.is_set() and self.send_one():
                    pass
            except DBAPIError as exc:
                # The database is gone or locked: said once by the outage tracker, retried every second.
                if self.outage is not None:
                    self.outage.failed("responder", describe_error(exc, self.engine.url))
                else:
                    log.error("responder: %s; retrying in 1 s", describe_error(exc, self.engine.url))
            except Exception:
                log.exception("responder loop failed; retrying in 1 s")
            self._wake.wait(1.0)
        self.close()
        log.info("responder stopped")

    def run_jobs(self) -> int:
        """Auto-acknowledge due complaints (when enabled); returns how many replies it queued."""
        from monitor.responder import autoack

        if not self.settings.auto_ack.enabled:
            return 0
        return len(autoack.run(self.engine, self.config, now=self.clock(), dry_run=False))

    def reconfigure(self, config: Any) -> None:
        """A reloaded config (SIGHUP): new credentials and templates from the next reply on."""
        self.config = config
        self.settings = config.responder
        self.close()

    def close(self) -> None:
        for replier in self._repliers.values():
            try:
                replier.close()
            except Exception:  # closing must never mask the reason we stop
                log.debug("closing a replier failed", exc_info=True)
        self._repliers.clear()

    # -- sending -------------------------------------------------------------
    def recover(self) -> int:
        """Settle replies left ``sending`` by dead senders: at start, then every ``JOB_INTERVAL``."""
        now_mono = time.monotonic()
        if self._recovered and now_mono - self._last_recover < self.recover_every:
            return 0
        self._recovered = True
        self._last_recover = now_mono
        n = outbox.recover(self.engine, owner=self.owner, now=self.clock(), ttl=self.ttl)
        if n:
            log.warning(
                "%d reply(ies) were interrupted mid-send; each is looked for on the platform before re-send",
                n,
            )
        return n

    def send_due(self) -> int:
        """Send every reply due now; returns how many were attempted."""
        n = 0
        while self.send_one():
            n += 1
        return n

    def send_one(self, reply_id: int | None = None) -> bool:
        """Claim and send one due reply (or ``reply_id``); False when there was none."""
        self.recover()
        now = self.clock()
        self._paused = {s: t for s, t in self._paused.items() if t > now}
        if reply_id is None:
            row = outbox.claim_next(self.engine, owner=self.owner, now=now, ttl=self.ttl, paused=self._paused)
        else:
            row = outbox.claim_one(self.engine, reply_id, owner=self.owner, now=now, ttl=self.ttl)
        if row is None:
            return False
        try:
            self._send(row)
        except Exception as exc:
            # A bug or an unexpected answer: the request may have gone out, so look before re-sending.
            log.exception("reply %d: unexpected failure", row.id)
            self._retry(row, f"{type(exc).__name__}: {exc}", "ambiguous")
        return True

    def _send(self, row: Any) -> None:
        mt = m.Mention.__table__
        with self.engine.connect() as conn:
            mention = conn.execute(select(mt).where(mt.c.id == row.mention_id)).first()
        if mention is None:
            self._fail(row, f"mention {row.mention_id} is no longer in the database; nothing was posted")
            return
        target = workflow.target_of(mention)
        try:
            replier = self._replier(row.source or mention.source)
            if outbox.maybe_posted(row.log) and not self._key_still_honoured(replier, row):
                found = replier.find_existing(row.body, target, row.key)
                if found is not None:
                    log.info(
                        "reply %d was already on %s (%s); not sent again", row.id, row.platform, found.id
                    )
                    self._done(row, found, "found")
                    return
            posted = replier.post(row.body, target, row.key)
        except ReplyRateLimited as exc:
            self._rate_limited(row, exc)
            return
        except ReplyError as exc:
            if exc.retry:
                self._retry(row, str(exc), "ambiguous" if exc.ambiguous else "unavailable")
            else:
                self._fail(row, str(exc))
            return
        self._done(row, posted, "sent")

    def _key_still_honoured(self, replier: Replier, row: Any) -> bool:
        """The platform still knows this reply's idempotency key: re-sending returns the same post."""
        if replier.idempotent_for is None:
            return False
        return (self.clock() - row.created_at).total_seconds() < replier.idempotent_for

    def _replier(self, source: str | None) -> Replier:
        if source is None or source not in self.config.sources:
            raise accounts.NoAccount(
                f"the source {source!r} this reply was queued for is no longer in the config; add it back "
                "or set responder.accounts, then `mention-monitor replies --retry ID`"
            )
        if source not in self._repliers:
            self._repliers[source] = accounts.make_replier(self.config, source, transport=self.transport)
        return self._repliers[source]

    # -- outcomes ----------------------------------------------------------------
    def _entry(self, row: Any, outcome: str, detail: str = "") -> dict[str, Any]:
        return {
            "at": self.clock().isoformat(),
            "attempt": row.attempts,
            "outcome": outcome,
            "detail": detail[:500],
        }

    def _done(self, row: Any, posted: Posted, how: str) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            outbox.append_log(conn, row.id, self._entry(row, how, posted.id))
            workflow.reply_confirmed(conn, row, posted.id, posted.url, now)
            if row.incident_id is not None:
                workflow.incident_reply_sent(conn, row, now, self.config)
        log.info("reply %d posted on %s as %s (%s)", row.id, row.platform, posted.id, posted.url)
        metrics.REPLY_LATENCY.observe(max(0.0, (now - row.created_at).total_seconds()))  # /metrics

    def _fail(self, row: Any, reason: str, status: str = "failed") -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            outbox.append_log(conn, row.id, self._entry(row, status, reason))
            workflow.reply_failed(conn, row, reason, now, status=status)
        log.error("reply %d to mention %d failed: %s", row.id, row.mention_id, reason)

    def _retry(self, row: Any, reason: str, outcome: str) -> None:
        if row.attempts >= self.settings.max_attempts:
            status = "unknown" if outcome == "ambiguous" else "failed"
            suffix = (
                "; it may have been posted — check the thread before asking again"
                if status == "unknown"
                else ""
            )
            self._fail(row, f"gave up after {row.attempts} attempt(s): {reason}{suffix}", status)
            return
        delay = min(self.settings.max_delay, self.settings.base_delay * 2 ** (row.attempts - 1))
        at = self.clock() + timedelta(seconds=delay * (0.8 + 0.4 * self.rand()))
        with self.engine.begin() as conn:
            outbox.requeue(
                conn,
                row.id,
                owner=self.owner,
                next_attempt_at=at,
                error=reason,
                entry=self._entry(row, outcome, reason),
            )
        log.warning("reply %d: %s; attempt %d, next at %s", row.id, reason, row.attempts, at.isoformat())

    def _rate_limited(self, row: Any, exc: ReplyRateLimited) -> None:
        limited = sum(1 for e in row.log or [] if isinstance(e, dict) and e.get("outcome") == "rate_limited")
        if limited >= MAX_RATE_LIMITED:
            self._fail(row, f"still rate limited after {limited} waits: {exc}")
            return
        now = self.clock()
        reset = (
            exc.reset_at
            if exc.reset_at and exc.reset_at > now
            else now + timedelta(seconds=DEFAULT_RATE_WAIT)
        )
        self._paused[row.source] = reset
        with self.engine.begin() as conn:
            outbox.requeue(
                conn,
                row.id,
                owner=self.owner,
                next_attempt_at=reset,
                error=str(exc),
                entry=self._entry(row, "rate_limited", f"{exc}; waiting until {reset.isoformat()}"),
                refund=True,
            )
        log.info("reply %d: rate limited on %s until %s", row.id, row.platform, reset.isoformat())
