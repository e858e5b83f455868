"""The notifier: drains the alert outbox through Apprise, one destination per call, and runs the alert jobs.

Crash safety: each delivery is *claimed* (``sending``, attempts + 1, claimer and
claim time recorded) in its own commit, sent with one Apprise call, then its
outcome is recorded in another commit. Rows still ``sending`` whose claimer is
dead (its claim expired, or it was an earlier process of this instance) become
``unknown`` — the process died mid-send, so the message may have arrived: shown,
never blindly re-sent. Several instances can run this loop on one database: each
row goes to exactly one of them.
Definite failures go back to ``failed`` with bounded exponential backoff and
jitter until ``retry.max_attempts``, then ``gave_up``. Destinations are sent in
parallel, so one slow or broken target never holds up the others.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from monitor import metrics
from monitor.alerts import compose, delivery, digest, followup, incidents, jobs, outbox
from monitor.alerts.ack import ack_url, claim_url
from monitor.alerts.message import Message
from monitor.alerts.retry import next_attempt
from monitor.alerts.routing import Destination
from monitor.config import Config
from monitor.liveness import Loop, Outage
from monitor.store import claims
from monitor.store import models as m
from monitor.store.db import describe_error

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# Periodic jobs (escalation, digest, incident updates, operator checks) run this often.
JOB_INTERVAL = 5.0
MAX_PARALLEL_DESTINATIONS = 8


def utcnow() -> datetime:
    return datetime.now(UTC)


class Notifier:
    """Delivers due alerts and runs the periodic alert jobs; the daemon runs :meth:`run` in a thread."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        *,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        # ``sleep`` is part of the daemon's interface; the loop itself waits on events so a
        # stop request is seen at once. ``rand`` feeds retry jitter (tests pin it).
        self.engine = engine
        self.config = config
        self.settings = config.alerts
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.by_route = outbox.route_destinations(self.settings)
        self.by_id: dict[str, Destination] = {d.id: d for ds in self.by_route.values() for d in ds}
        # Set by the daemon: the loop's heartbeat (watchdog) and the database outage tracker.
        self.loop: Loop | None = None
        self.outage: Outage | None = None
        self._wake = threading.Event()
        # Claims on deliveries carry this process's id; a claim not renewed for claim_ttl is a dead holder's.
        self.owner = claims.holder()
        self.claim_ttl = outbox.CLAIM_TTL
        self._in_flight: set[int] = set()  # delivery ids being sent now (their claims are renewed)
        self._recovered = False
        self._last_jobs: float | None = None
        self._pool: ThreadPoolExecutor | None = None
        # Set by run()'s stop event: a long backlog stops between sends, not after all of them.
        self._stop = threading.Event()

    # -- the daemon's interface --------------------------------------------
    def wake(self) -> None:
        """Called after a commit that created alerts: deliver now instead of at the next tick."""
        self._wake.set()

    def deliver_due(self) -> int:
        """Claim and send every due delivery once; returns how many were attempted."""
        self.recover()
        self.follow_up()
        groups = list(outbox.due(self.engine, self.clock()).values())
        if not groups:
            return 0
        # Destinations in parallel, each in order: a hung chat service delays only itself. Each
        # row is claimed just before its send, so a crash leaves at most one row per destination
        # "in flight" (→ unknown); the rest stay pending and go out after the restart.
        if len(groups) == 1:
            return self._send_group(groups[0])
        if self._pool is None:
            self._pool = ThreadPoolExecutor(MAX_PARALLEL_DESTINATIONS, thread_name_prefix="notify")
        return sum(self._pool.map(self._send_group, groups))

    def run(self, stop: threading.Event) -> None:
        """Deliver and run jobs until ``stop`` is set; wakes on :meth:`wake` or at least every second."""
        log.info("notifier started: %d destination(s) configured", len(self.by_id))
        self._stop = stop
        while not stop.is_set():
            if self.loop is not None:
                self.loop.busy()  # the daemon's watchdog: a send or job hung past stall_after stops it
            try:
                self._wake.clear()
                self.deliver_due()
                now_mono = time.monotonic()
                if self._last_jobs is None or now_mono - self._last_jobs >= JOB_INTERVAL:
                    self._last_jobs = now_mono
                    if self.run_jobs(self.clock()):
                        continue  # jobs queued alerts: deliver them without waiting
                if self.outage is not None:
                    self.outage.ok()
            except DBAPIError as exc:
                # The database is gone or locked: said once by the outage tracker, retried every second.
                if self.outage is not None:
                    self.outage.failed("notifier", describe_error(exc, self.engine.url))
                else:
                    log.error("notifier: %s; retrying in 1 s", describe_error(exc, self.engine.url))
            except Exception:
                log.exception("notifier loop failed; retrying in 1 s")
            if self.loop is not None:
                self.loop.idle()
            self._wake.wait(1.0)
        self.close()
        log.info("notifier stopped")

    def reconfigure(self, config: Config) -> None:
        """SIGHUP: new routes, targets and alert settings for the next sends (queued rows keep theirs)."""
        by_route = outbox.route_destinations(config.alerts)
        self.config, self.settings = config, config.alerts
        self.by_route, self.by_id = by_route, {d.id: d for ds in by_route.values() for d in ds}

    def close(self) -> None:
        """Wait for sends in flight and release the worker threads (the next call makes new ones)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    # -- jobs ----------------------------------------------------------------
    def run_jobs(self, now: datetime) -> int:
        """Escalation, incident updates, digest and operator checks; returns how many alerts they queued."""
        return jobs.run_all(self.engine, self.config, self.by_route, now)

    # -- delivery ------------------------------------------------------------
    def recover(self) -> int:
        """Rows left ``sending`` by a dead process (a predecessor or another instance) become ``unknown``."""
        self._recovered = True
        n = outbox.recover(self.engine, self.clock(), owner=self.owner, ttl=self.claim_ttl)
        if n:
            log.warning(
                "%d alert delivery(ies) were interrupted mid-send by a stopped or dead instance; marked "
                "unknown (see `mention-monitor alerts --status unknown`)",
                n,
            )
        return n

    def follow_up(self) -> int:
        """Ambiguous sends: P1/P2 get their one marked re-send once the grace period is over (followup.py)."""
        now = self.clock()
        with self.engine.begin() as conn:
            followup.plan(conn, self.settings, now)
            n = followup.release(conn, now)
        if n:
            log.warning("%d ambiguous urgent alert delivery(ies) re-sent once, marked as a repeat", n)
        return n

    def renew_claims(self, now: datetime) -> int:
        """Keep the claims of sends in progress alive (the daemon's heartbeat calls it).

        Only rows being sent right now: a row whose outcome could not be recorded (the database
        went away) stops being renewed, expires, and :meth:`recover` settles it as ``unknown``.
        """
        ids = list(self._in_flight)
        if not ids:
            return 0
        d = m.AlertDelivery.__table__
        with self.engine.begin() as conn:
            return conn.execute(
                update(d).where(d.c.claimed_by == self.owner, d.c.id.in_(ids)).values(claimed_at=now)
            ).rowcount

    def _send_group(self, delivery_ids: list[int]) -> int:
        attempted = 0
        for delivery_id in delivery_ids:
            if self._stop.is_set():
                break  # unclaimed rows stay pending for the next start
            claimed = outbox.claim(
                self.engine, delivery_id, self.clock(), owner=self.owner, ttl=self.claim_ttl
            )
            if claimed is None:
                continue  # another notifier took it
            attempted += 1
            self._in_flight.add(claimed.delivery_id)
            try:
                self._send_one(claimed)
            except DBAPIError:
                raise  # the outcome could not be recorded: the claim expires, recover() settles it
            except Exception as exc:
                log.exception("delivery %d failed unexpectedly", claimed.delivery_id)
                self._finish(
                    claimed, delivery.Outcome("failed", "EXCEPTION", f"{type(exc).__name__}: {exc}", 0)
                )
            finally:
                self._in_flight.discard(claimed.delivery_id)
        return attempted

    def _send_one(self, claimed: outbox.Claimed) -> None:
        destination = self.by_id.get(claimed.destination)
        if destination is None:
            outcome = delivery.Outcome(
                "failed",
                "NOT_CONFIGURED",
                f"destination {claimed.destination} is no longer in the config (route {claimed.route!r} "
                "changed); add it back or leave this alert as given up",
                0.0,
                permanent=True,
            )
        else:
            message = self.compose(claimed, self.clock())
            with self.engine.connect() as conn:
                if followup.is_resend(conn, claimed.delivery_id):
                    message = compose.resent(message, followup.RESEND_NOTE)
            outcome = delivery.send(
                destination, message, timeout=self.settings.send_timeout, quote_limit=self.settings.text_limit
            )
        self._finish(claimed, outcome)

    def _finish(self, claimed: outbox.Claimed, outcome: delivery.Outcome) -> None:
        now = self.clock()
        entry = {
            "at": now.isoformat(),
            "attempt": claimed.attempts,
            "outcome": outcome.status,
            "apprise": outcome.apprise_status,
            "elapsed": round(outcome.elapsed, 3),
            "detail": outcome.detail[:500],
        }
        metrics.DELIVERIES.labels(outcome.status).inc()
        if outcome.status == "delivered":
            outbox.record(
                self.engine, claimed.delivery_id, status="delivered", now=now, entry=entry, owner=self.owner
            )
            metrics.ALERT_LATENCY.observe(max(0.0, (now - claimed.created_at).total_seconds()))
            log.info("alert %d delivered to %s", claimed.alert_id, claimed.destination)
            return
        if outcome.status == "unknown":
            outbox.record(
                self.engine,
                claimed.delivery_id,
                status="unknown",
                now=now,
                entry=entry,
                error=outcome.detail,
                owner=self.owner,
            )
            log.warning(
                "alert %d to %s: outcome unknown (%s)", claimed.alert_id, claimed.destination, outcome.detail
            )
            return
        retry_at = (
            None
            if outcome.permanent
            else next_attempt(claimed.attempts, self.settings.retry, now, self.rand())
        )
        status = "failed" if retry_at else "gave_up"
        outbox.record(
            self.engine,
            claimed.delivery_id,
            status=status,
            now=now,
            entry=entry,
            next_attempt_at=retry_at,
            error=outcome.detail,
            owner=self.owner,
        )
        if retry_at:
            log.info(
                "alert %d to %s failed (attempt %d): %s; retry at %s",
                claimed.alert_id,
                claimed.destination,
                claimed.attempts,
                outcome.detail,
                retry_at.isoformat(timespec="seconds"),
            )
        else:
            log.error(
                "alert %d to %s gave up after %d attempt(s): %s",
                claimed.alert_id,
                claimed.destination,
                claimed.attempts,
                outcome.detail,
            )

    # -- what to say -----------------------------------------------------------
    def compose(self, claimed: outbox.Claimed, now: datetime) -> Message:
        """Build the message for a claimed delivery from the current rows (so counts and ages are live)."""
        with Session(self.engine, expire_on_commit=False) as s:
            if claimed.kind in ("mention", "escalation") and claimed.mention_id is not None:
                mention = s.get(m.Mention, claimed.mention_id)
                if mention is not None:
                    return compose.mention_message(
                        mention,
                        now=now,
                        sla=self.settings.sla,
                        ack_link=self._ack_link(mention.id, now),
                        escalation=claimed.kind == "escalation",
                        incident_id=mention.incident_id,
                        claim_link=self._ack_link(mention.id, now, purpose="claim"),
                    )
            if claimed.kind == "incident":
                view = incidents.view(s, claimed.key, self.settings.incidents, now)
                if view is not None:
                    return compose.incident_message(view, now=now, update=":update:" in claimed.key)
            if claimed.kind == "digest":
                view = digest.view_for_key(s, claimed.key, self.settings.digest)
                if view is not None:
                    carried = followup.carried_by(s.connection(), claimed.alert_id)
                    return compose.digest_message(view, ambiguous=carried)
        if claimed.kind == "operator":
            return compose.operator_message(claimed.title or "problem", claimed.body or "")
        return compose.text_message(claimed.title or f"{claimed.kind} alert", claimed.body or "", "warning")

    def _ack_link(self, mention_id: int | None, now: datetime, *, purpose: str = "ack") -> str | None:
        dash = self.config.dashboard
        if mention_id is None or dash.secret_key is None:
            return None
        make = claim_url if purpose == "claim" else ack_url
        return make(
            dash.public_url, dash.secret_key.get_secret_value(), mention_id, now, self.settings.ack_link_hours
        )
