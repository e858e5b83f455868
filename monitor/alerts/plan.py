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

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from monitor.alerts import incidents
from monitor.alerts.outbox import enqueue
from monitor.alerts.routing import Destination, select_routes
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
    for mention_id, mention, verdict in stored:
        routes = select_routes(mention, verdict, settings, now)
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
        if _recently_alerted(conn, mention, verdict.priority, settings, now):
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
            ):
                count += 1
    incidents.flush(conn, batch, now)
    return count


def _recently_alerted(
    conn: Connection, mention: Mention, priority: str | None, settings: AlertSettings, now: datetime
) -> bool:
    """Did this author, or this thread, alert within the window at the same or a higher priority?"""
    if settings.author_window_minutes <= 0:
        return False
    mt = m.Mention.__table__
    at = m.AlertOutbox.__table__
    same = [and_(mt.c.author_handle == mention.author_handle)]
    if mention.conversation_id:
        same.append(mt.c.conversation_id == mention.conversation_id)
    since = now - timedelta(minutes=settings.author_window_minutes)
    rows = conn.execute(
        select(at.c.priority)
        .select_from(at.join(mt, mt.c.id == at.c.mention_id))
        .where(
            at.c.kind == "mention", at.c.created_at >= since, mt.c.platform == mention.platform, or_(*same)
        )
    ).all()
    mine = PRIORITY_ORDER.get(priority or "", 9)
    return any(PRIORITY_ORDER.get(r.priority or "", 9) <= mine for r in rows)
