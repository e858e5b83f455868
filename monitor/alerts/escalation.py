"""Escalation: a P1/P2 alert nobody acknowledged within its SLA is re-sent to the escalation route.

The SLA clock for escalation starts when the alert was queued, so a post fetched
late still gives agents the full SLA before it escalates. One escalation per
mention and route (idempotency key ``escalation:mention:<id>:<route>``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from monitor.alerts.outbox import enqueue
from monitor.alerts.routing import Destination
from monitor.alerts.settings import AlertSettings, SLASettings
from monitor.store import models as m

# Older alerts are not escalated any more: after a long outage of the daemon, nobody wants
# a wave of week-old escalations.
LOOKBACK = timedelta(days=2)


def escalation_due(
    alerted_at: datetime, priority: str | None, sla: SLASettings, now: datetime, *, acknowledged: bool
) -> bool:
    """True when an unacknowledged alert has waited longer than its priority's SLA."""
    return not acknowledged and now >= alerted_at + timedelta(minutes=sla.minutes_for(priority))


def run(
    conn: Connection, settings: AlertSettings, by_route: dict[str, list[Destination]], now: datetime
) -> int:
    """Queue escalations that are due; returns how many alerts were queued."""
    esc = settings.escalation
    if not esc.enabled or not esc.priorities:
        return 0
    at = m.AlertOutbox.__table__
    mt = m.Mention.__table__
    shortest = min(settings.sla.minutes_for(p) for p in esc.priorities)
    rows = conn.execute(
        select(at.c.mention_id, at.c.route, at.c.created_at, mt.c.priority, mt.c.status, mt.c.acknowledged_at)
        .select_from(at.join(mt, mt.c.id == at.c.mention_id))
        .where(
            at.c.kind == "mention",
            at.c.created_at >= now - LOOKBACK,
            at.c.created_at <= now - timedelta(minutes=shortest),
            mt.c.status == "new",
            mt.c.acknowledged_at.is_(None),
            mt.c.priority.in_(list(esc.priorities)),
        )
    ).all()
    queued = 0
    for row in rows:
        if not escalation_due(row.created_at, row.priority, settings.sla, now, acknowledged=False):
            continue
        route = esc.route or row.route
        if enqueue(
            conn,
            key=f"escalation:mention:{row.mention_id}:{route}",
            kind="escalation",
            route=route,
            targets=by_route.get(route, []),
            now=now,
            mention_id=row.mention_id,
            priority=row.priority,
            title=f"Escalation: mention #{row.mention_id} ({row.priority}) not acknowledged within its SLA",
        ):
            queued += 1
    return queued
