"""The periodic digest: hourly or daily volume, sentiment and top complaints, sent to ``alerts.digest.route``.

With a digest route configured, P3 mentions do not alert one by one
(:mod:`monitor.alerts.plan` holds them); they are counted here. Periods follow
``alerts.business_hours.timezone`` so a daily digest covers the team's day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from monitor.alerts import followup
from monitor.alerts.compose import DigestView
from monitor.alerts.outbox import enqueue
from monitor.alerts.routing import Destination
from monitor.alerts.settings import AlertSettings, DigestSettings
from monitor.store import models as m


def last_period(now: datetime, every: str, timezone: str) -> tuple[datetime, datetime]:
    """The most recent complete hour or day (local midnight to midnight) before ``now``, in UTC."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if every == "hourly":
        end_local = local.replace(minute=0, second=0, microsecond=0)
        end = end_local.astimezone(now.tzinfo)
        return end - timedelta(hours=1), end
    end_local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Build the start from the local calendar so a DST change makes a 23 h or 25 h day, not a shifted one.
    start_local = (end_local - timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=zone)
    return start_local.astimezone(now.tzinfo), end_local.astimezone(now.tzinfo)


def key_for(every: str, start: datetime, end: datetime) -> str:
    """``digest:daily:<start ISO>/<end ISO>``: one digest per period, whoever runs the job."""
    return f"digest:{every}:{start.isoformat()}/{end.isoformat()}"


def run(
    conn: Connection, settings: AlertSettings, by_route: dict[str, list[Destination]], now: datetime
) -> int:
    """Queue the digest for the last complete period if it has mentions and was not queued yet."""
    route = settings.digest.route
    if route is None:
        return 0
    start, end = last_period(now, settings.digest.every, settings.business_hours.timezone)
    mt = m.Mention.__table__
    total = conn.execute(
        select(func.count()).where(mt.c.created_at >= start, mt.c.created_at < end)
    ).scalar_one()
    if not total and not followup.waiting_for_digest(conn):
        return 0
    alert_id = enqueue(
        conn,
        key=key_for(settings.digest.every, start, end),
        kind="digest",
        route=route,
        targets=by_route.get(route, []),
        now=now,
        priority="P3",
        title=f"Digest {start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC: {total} mentions",
    )
    if alert_id:
        # P3 alerts whose own send was ambiguous are listed in this digest (alerts/followup.py).
        followup.take_for_digest(conn, alert_id)
    return 1 if alert_id else 0


def view_for_key(session: Session, key: str, settings: DigestSettings) -> DigestView | None:
    """The summary for a digest alert's period, read from the mentions."""
    try:
        _, _every, period = key.split(":", 2)
        start_s, end_s = period.split("/", 1)
        start, end = datetime.fromisoformat(start_s), datetime.fromisoformat(end_s)
    except ValueError:
        return None
    return summarize(session, start, end, settings.top)


def summarize(session: Session, start: datetime, end: datetime, top: int) -> DigestView:
    mt = m.Mention.__table__
    in_period = (mt.c.created_at >= start, mt.c.created_at < end)
    by_label: dict[str, int] = {}
    for label, n in session.execute(select(mt.c.label, func.count()).where(*in_period).group_by(mt.c.label)):
        by_label[label or "unlabelled"] = by_label.get(label or "unlabelled", 0) + n
    by_platform = dict(
        session.execute(select(mt.c.platform, func.count()).where(*in_period).group_by(mt.c.platform)).all()
    )
    mean = session.execute(select(func.avg(mt.c.polarity)).where(*in_period)).scalar()
    held = session.execute(select(func.count()).where(*in_period, mt.c.priority == "P3")).scalar_one()
    complaints = list(
        session.scalars(
            select(m.Mention)
            .where(m.Mention.created_at >= start, m.Mention.created_at < end, m.Mention.label == "complaint")
            .order_by(m.Mention.urgency.desc().nulls_last(), m.Mention.author_followers.desc().nulls_last())
            .limit(top)
        )
    )
    return DigestView(
        start=start,
        end=end,
        total=sum(by_label.values()),
        by_label=by_label,
        by_platform=by_platform,
        mean_polarity=float(mean) if mean is not None else None,
        held_p3=held,
        top=complaints,
    )
