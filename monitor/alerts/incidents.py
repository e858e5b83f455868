"""Storms become incidents: spike detection, folding members in, live-count updates, closing.

A complaint storm (an outage) is a window count far above the normal rate for
a platform, or for one of ``alerts.incidents.terms`` on it: Huginn-style
``mean + sigma·σ`` over the baseline, and at least ``factor ×`` the mean and
``min_count``. The storm's complaints join one :class:`~monitor.store.models.Incident`
that alerts once, then sends count updates at most every ``update_minutes``;
members alert on their own only when high-reach or high-severity. An incident
closes after ``quiet_minutes`` without members; a storm within
``cooldown_minutes`` of closing reopens it instead of opening a new one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from monitor.alerts.compose import IncidentView
from monitor.alerts.outbox import enqueue
from monitor.alerts.routing import Destination
from monitor.alerts.settings import IncidentSettings
from monitor.store import models as m

# ----------------------------------------------------------------------------- pure


def storm_threshold(history: Sequence[int], settings: IncidentSettings) -> float:
    """The window count at which complaints count as a storm, given past window counts."""
    if history:
        mean = sum(history) / len(history)
        std = math.sqrt(sum((x - mean) ** 2 for x in history) / len(history))
    else:
        mean = std = 0.0
    return max(float(settings.min_count), settings.factor * mean, mean + settings.sigma * std)


def is_storm(recent: int, history: Sequence[int], settings: IncidentSettings) -> bool:
    """True when ``recent`` complaints in the window are far above the usual rate."""
    return recent >= storm_threshold(history, settings)


def bucket_counts(times: Sequence[datetime], start: datetime, end: datetime, width: timedelta) -> list[int]:
    """Counts of ``times`` per ``width``-wide bucket in [start, end), empty buckets included."""
    n = max(int((end - start) / width), 0)
    counts = [0] * n
    for t in times:
        if start <= t < end:
            i = int((t - start) / width)
            if i < n:
                counts[i] += 1
    return counts


def term_of(text: str, terms: Sequence[str]) -> str | None:
    """The first configured incident term the text contains (whole word, any case)."""
    for term in terms:
        if re.search(rf"\b{re.escape(term)}\b", text, re.IGNORECASE):
            return term
    return None


def alerts_individually(followers: int | None, urgency: int | None, settings: IncidentSettings) -> bool:
    """Big accounts and the most severe posts still get their own alert inside an incident."""
    if (
        settings.individual_min_followers is not None
        and (followers or 0) >= settings.individual_min_followers
    ):
        return True
    return settings.individual_min_urgency is not None and (urgency or 0) >= settings.individual_min_urgency


# ----------------------------------------------------------------------------- in the ingest transaction


@dataclass(frozen=True, slots=True)
class Folded:
    """What folding decided for one mention."""

    incident_id: int | None
    alert_individually: bool
    alerts_queued: int = 0


@dataclass
class Batch:
    """Per-page memory, so a page of 500 complaints costs a few queries, not a few per mention.

    Every mention of the page is already stored when routing starts, so the storm
    decision for a group (platform, term) is the same for all of them: made once,
    remembered here. Joins are collected and written by :func:`flush`.
    """

    open: dict[tuple[str, str | None], int] = field(default_factory=dict)
    calm: set[tuple[str, str | None]] = field(default_factory=set)
    joins: dict[int, list[int]] = field(default_factory=dict)


def _group_filter(platform: str, term: str | None, labels: Sequence[str]) -> list:
    mt = m.Mention.__table__
    cond = [mt.c.platform == platform, mt.c.label.in_(list(labels))]
    if term is not None:
        cond.append(func.lower(mt.c.text).like(f"%{term.lower()}%"))
    return cond


def fold(
    conn: Connection,
    *,
    mention_id: int,
    platform: str,
    text: str,
    label: str | None,
    followers: int | None,
    urgency: int | None,
    routes: Sequence[str],
    by_route: dict[str, list[Destination]],
    settings: IncidentSettings,
    now: datetime,
    batch: Batch,
) -> Folded:
    """Join an open incident, open one when this mention completes a storm, or leave it alone.

    Call :func:`flush` with the same ``batch`` after the page, in the same transaction.
    """
    if not settings.enabled or label not in settings.labels:
        return Folded(None, True)
    term = term_of(text, settings.terms)
    key = (platform, term)
    individually = alerts_individually(followers, urgency, settings)
    if key in batch.open:
        batch.joins.setdefault(batch.open[key], []).append(mention_id)
        return Folded(batch.open[key], individually)
    if key in batch.calm:
        return Folded(None, True)

    it = m.Incident.__table__
    mt = m.Mention.__table__
    quiet_since = now - timedelta(minutes=settings.quiet_minutes)
    group = [it.c.platform == platform, it.c.term.is_(None) if term is None else it.c.term == term]
    current = conn.execute(
        select(it.c.id, it.c.status, it.c.last_seen_at, it.c.closed_at)
        .where(*group, it.c.status.in_(("open", "closed")))
        .order_by(it.c.opened_at.desc())
        .limit(1)
    ).first()
    if current is not None and current.status == "open" and current.last_seen_at >= quiet_since:
        batch.open[key] = current.id
        batch.joins.setdefault(current.id, []).append(mention_id)
        return Folded(current.id, individually)

    window = timedelta(minutes=settings.window_minutes)
    cond = _group_filter(platform, term, settings.labels)
    recent = conn.execute(
        select(func.count()).where(*cond, mt.c.created_at >= now - window, mt.c.created_at <= now)
    ).scalar_one()
    if recent < settings.min_count:
        batch.calm.add(key)
        return Folded(None, True)  # cheap exit: the baseline query is only needed near a storm
    oldest = conn.execute(select(func.min(mt.c.created_at)).where(mt.c.platform == platform)).scalar()
    if oldest is None or oldest > now - window - timedelta(hours=settings.min_history_hours):
        batch.calm.add(key)
        return Folded(None, True)  # no normal rate known yet: everything alerts on its own
    base_start = now - timedelta(hours=settings.baseline_hours)
    times = [
        r[0]
        for r in conn.execute(
            select(mt.c.created_at).where(
                *cond, mt.c.created_at >= base_start, mt.c.created_at < now - window
            )
        )
    ]
    history = bucket_counts(times, base_start, now - window, window)
    if not is_storm(recent, history, settings):
        batch.calm.add(key)
        return Folded(None, True)

    # The storm's members: this window's complaints of the group (this page's included).
    members = [
        r[0]
        for r in conn.execute(
            select(mt.c.id).where(
                *cond, mt.c.created_at >= now - window, mt.c.created_at <= now, mt.c.incident_id.is_(None)
            )
        )
    ]
    if mention_id not in members:
        members.append(mention_id)
    targets = list(routes) or list(by_route)[:1]
    cooldown = timedelta(minutes=settings.cooldown_minutes)
    if (
        current is not None
        and current.status == "closed"
        and current.closed_at is not None
        and current.closed_at >= now - cooldown
    ):
        # Still cooling down from the last storm: the same incident comes back, no new "new incident" ping.
        conn.execute(update(it).where(it.c.id == current.id).values(status="open", closed_at=None))
        _join(conn, current.id, members, now)
        batch.open[key] = current.id
        return Folded(current.id, individually)

    incident_id = conn.execute(
        it.insert()
        .values(
            platform=platform,
            term=term,
            status="open",
            opened_at=now,
            last_seen_at=now,
            count=0,
            notified_count=0,
            notified_at=now,
            updates=0,
            routes=targets,
        )
        .returning(it.c.id)
    ).scalar_one()
    count = _join(conn, incident_id, members, now)
    conn.execute(update(it).where(it.c.id == incident_id).values(notified_count=count))
    batch.open[key] = incident_id
    queued = 0
    for route in targets:
        if enqueue(
            conn,
            key=f"incident:{incident_id}:open:{route}",
            kind="incident",
            route=route,
            targets=by_route.get(route, []),
            now=now,
            priority="P1",
            title=f"Incident #{incident_id}: {count} complaints on {platform}"
            + (f" about {term}" if term else ""),
        ):
            queued += 1
    return Folded(incident_id, individually, queued)


def flush(conn: Connection, batch: Batch, now: datetime) -> None:
    """Write the page's collected joins (one UPDATE per incident)."""
    for incident_id, mention_ids in batch.joins.items():
        _join(conn, incident_id, mention_ids, now)
    batch.joins.clear()


def _join(conn: Connection, incident_id: int, mention_ids: list[int], now: datetime) -> int:
    """Attach mentions that are in no incident yet; returns the incident's new count."""
    mt = m.Mention.__table__
    it = m.Incident.__table__
    added = 0
    for start in range(0, len(mention_ids), 500):
        chunk = mention_ids[start : start + 500]
        added += conn.execute(
            update(mt).where(mt.c.id.in_(chunk), mt.c.incident_id.is_(None)).values(incident_id=incident_id)
        ).rowcount
    conn.execute(update(it).where(it.c.id == incident_id).values(count=it.c.count + added, last_seen_at=now))
    return conn.execute(select(it.c.count).where(it.c.id == incident_id)).scalar_one()


# ----------------------------------------------------------------------------- periodic job


def run_updates(
    conn: Connection, settings: IncidentSettings, by_route: dict[str, list[Destination]], now: datetime
) -> int:
    """Send count updates for grown incidents and close quiet ones; returns alerts queued."""
    it = m.Incident.__table__
    queued = 0
    rows = conn.execute(select(it).where(it.c.status == "open")).mappings().all()
    every = timedelta(minutes=settings.update_minutes)
    quiet = timedelta(minutes=settings.quiet_minutes)
    for row in rows:
        closing = row["last_seen_at"] < now - quiet
        grown = row["count"] > row["notified_count"]
        due = row["notified_at"] is None or row["notified_at"] <= now - every
        values: dict = {}
        if grown and (due or closing):
            n = row["updates"] + 1
            for route in row["routes"] or []:
                if enqueue(
                    conn,
                    key=f"incident:{row['id']}:update:{n}:{route}",
                    kind="incident",
                    route=route,
                    targets=by_route.get(route, []),
                    now=now,
                    priority="P1",
                    title=f"Incident #{row['id']} update: {row['count']} mentions on {row['platform']}",
                ):
                    queued += 1
            values.update(updates=n, notified_count=row["count"], notified_at=now)
        if closing:
            values.update(status="closed", closed_at=now)
        if values:
            conn.execute(update(it).where(it.c.id == row["id"]).values(**values))
    return queued


# ----------------------------------------------------------------------------- what an alert shows


def view(session: Session, key: str, settings: IncidentSettings, now: datetime) -> IncidentView | None:
    """The incident named in an alert key (``incident:<id>:…``), read live from its members."""
    try:
        incident_id = int(key.split(":")[1])
    except (IndexError, ValueError):
        return None
    incident = session.get(m.Incident, incident_id)
    if incident is None:
        return None
    members = list(
        session.scalars(
            select(m.Mention).where(m.Mention.incident_id == incident_id).order_by(m.Mention.created_at)
        )
    )
    top = sorted({(mm.author_handle, mm.author_followers) for mm in members}, key=lambda a: -(a[1] or 0))[:3]
    # Samples: the most urgent, then the most recent — what an agent needs to grasp the outage.
    samples = sorted(members, key=lambda mm: (-(mm.urgency or 0), -mm.created_at.timestamp()))[
        : settings.samples
    ]
    window = timedelta(minutes=settings.window_minutes)
    trend: list[float] = []
    if members:
        start = members[0].created_at
        buckets: dict[int, list[float]] = {}
        for mm in members:
            if mm.polarity is not None:
                buckets.setdefault(int((mm.created_at - start) / window), []).append(mm.polarity)
        trend = [sum(v) / len(v) for _, v in sorted(buckets.items())]
    return IncidentView(
        id=incident_id,
        platform=incident.platform,
        term=incident.term,
        count=len(members),
        opened_at=incident.opened_at,
        last_seen_at=incident.last_seen_at,
        status=incident.status,
        samples=samples,
        top_authors=top,
        sentiment=trend,
    )
