"""Which alert rows a freshly stored page of mentions creates — run inside the ingest transaction.

For each new mention, in order:

1. pick the routes (:func:`~monitor.alerts.routing.select_routes`);
2. fold it into a complaint storm (:mod:`monitor.alerts.incidents`): members of an
   incident alert on their own only when high-reach or high-severity;
3. hold P3 mentions for the digest when ``alerts.digest.route`` is set;
4. alert at most once per author or thread within ``alerts.author_window_minutes``
   (unless the new mention is more urgent than the one that alerted);
5. enqueue one outbox row per route (key ``mention:<id>:route:<name>``) with one
   pending delivery per destination.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from monitor.alerts import incidents
from monitor.alerts.outbox import enqueue
from monitor.alerts.routing import Destination, in_business_hours, select_routes
from monitor.alerts.settings import PRIORITY_ORDER, AlertSettings
from monitor.mention import Mention
from monitor.store import models as m
from monitor.triage import Verdict

log = logging.getLogger(__name__)


def plan_alerts(
    conn: Connection,
    stored: list[tuple[int, Mention, Verdict]],
    settings: AlertSettings,
    by_route: dict[str, list[Destination]],
    now: datetime,
) -> int:
    """Create the alert rows for ``stored`` (mention id, mention, verdict); returns how many."""
    count = 0
    batch = incidents.Batch()
    window = RecentAlerts.load(conn, [mm for _, mm, _ in stored], settings, now)
    inside = in_business_hours(settings.business_hours, now)  # the same ``now`` for the whole page
    for mention_id, mention, verdict in stored:
        routes = select_routes(mention, verdict, settings, now, business_hours=inside)
        folded = incidents.fold(
            conn,
            mention_id=mention_id,
            platform=mention.platform,
            text=mention.text,
            label=verdict.label,
            followers=mention.author_followers,
            urgency=verdict.urgency,
            routes=[r.name for r in routes],
            by_route=by_route,
            settings=settings.incidents,
            now=now,
            batch=batch,
        )
        count += folded.alerts_queued
        if not routes or not folded.alert_individually:
            continue
        if settings.digest.route is not None and verdict.priority == "P3":
            continue  # summarised in the next digest instead of pinging now
        if window.covers(mention, verdict.priority):
            log.info(
                "mention %d: %s/@%s already alerted within %g min; not alerting again",
                mention_id,
                mention.platform,
                mention.author_handle,
                settings.author_window_minutes,
            )
            continue
        for route in routes:
            if enqueue(
                conn,
                key=f"mention:{mention_id}:route:{route.name}",
                kind="mention",
                route=route.name,
                targets=by_route.get(route.name, []),
                now=now,
                mention_id=mention_id,
                priority=verdict.priority,
                mention=mention,
            ):
                count += 1
                window.add(mention, verdict.priority)
    incidents.flush(conn, batch, now)
    return count


class RecentAlerts:
    """Who alerted within ``author_window_minutes``: read once per page, kept current as it alerts.

    Keys are ``(platform, "author", handle)`` and ``(platform, "thread", conversation_id)``;
    values the most urgent priority seen (P1 < P2 < P3).
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._best: dict[tuple[str, str, str], int] = {}

    @classmethod
    def load(
        cls, conn: Connection, mentions: list[Mention], settings: AlertSettings, now: datetime
    ) -> RecentAlerts:
        window = cls(settings.author_window_minutes > 0)
        if not window.enabled or not mentions:
            return window
        at = m.AlertOutbox.__table__
        since = now - timedelta(minutes=settings.author_window_minutes)
        by_platform: dict[str, tuple[set[str], set[str]]] = {}
        for mention in mentions:
            authors, threads = by_platform.setdefault(mention.platform, (set(), set()))
            authors.add(mention.author_handle)
            if mention.conversation_id:
                threads.add(mention.conversation_id)
        for platform, (authors, threads) in by_platform.items():
            # One indexed lookup per key kind, on the alert rows themselves (no join to mentions).
            for kind, column, values in (
                ("author", at.c.author_handle, authors),
                ("thread", at.c.conversation_id, threads),
            ):
                values_list = sorted(values)
                for start in range(0, len(values_list), 500):
                    rows = conn.execute(
                        select(column, at.c.priority).where(
                            at.c.platform == platform,
                            column.in_(values_list[start : start + 500]),
                            at.c.kind == "mention",
                            at.c.created_at >= since,
                        )
                    )
                    for value, priority in rows:
                        window._note((platform, kind, value), priority)
        return window

    def _keys(self, mention: Mention) -> list[tuple[str, str, str]]:
        keys = [(mention.platform, "author", mention.author_handle)]
        if mention.conversation_id:
            keys.append((mention.platform, "thread", mention.conversation_id))
        return keys

    def _note(self, key: tuple[str, str, str], priority: str | None) -> None:
        rank = PRIORITY_ORDER.get(priority or "", 9)
        self._best[key] = min(rank, self._best.get(key, 9))

    def covers(self, mention: Mention, priority: str | None) -> bool:
        """Did this author, or this thread, alert within the window at the same or a higher priority?"""
        if not self.enabled:
            return False
        mine = PRIORITY_ORDER.get(priority or "", 9)
        return any(self._best.get(key, 10) <= mine for key in self._keys(mention))

    def add(self, mention: Mention, priority: str | None) -> None:
        for key in self._keys(mention):
            self._note(key, priority)
