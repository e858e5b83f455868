"""The alert outbox and its delivery ledger: enqueue, claim, record — each its own small transaction.

``enqueue`` runs inside the caller's transaction (the pipeline's ingest, or a
periodic job), so an alert exists exactly when the thing it is about does.
``claim`` and ``record`` bracket one Apprise call each in their own committed
transactions: a crash between them leaves the row in ``sending``, which
``recover`` turns into ``unknown`` (shown, not re-sent). With several instances on
one database each claim records its holder (``store/claims.py``); ``recover``
only settles rows whose holder is dead (its claim expired, or it was a process
of this instance that no longer runs), never a live instance's send in progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, true, update
from sqlalchemy.engine import Connection, Engine

from monitor.alerts.routing import Destination, destinations
from monitor.alerts.settings import OPERATORS_ROUTE, AlertSettings, Route
from monitor.mention import Mention
from monitor.store import claims
from monitor.store import models as m
from monitor.store.db import insert_for

RETRYABLE = ("pending", "failed")
# Seconds a claim lives without renewal before another instance may settle it (daemon renews).
CLAIM_TTL = 9.0


def route_destinations(settings: AlertSettings) -> dict[str, list[Destination]]:
    """Every route's destinations by route name, plus ``operators`` for ``alerts.operators``."""
    out = {r.name: destinations(r) for r in settings.routes}
    if settings.operators:
        out[OPERATORS_ROUTE] = destinations(Route(name=OPERATORS_ROUTE, notify=list(settings.operators)))
    else:
        out[OPERATORS_ROUTE] = []
    return out


def enqueue(
    conn: Connection,
    *,
    key: str,
    kind: str,
    route: str,
    targets: list[Destination],
    now: datetime,
    mention_id: int | None = None,
    priority: str | None = None,
    title: str | None = None,
    body: str | None = None,
    mention: Mention | None = None,
) -> int | None:
    """Insert the alert and one pending delivery per target; None if ``key`` already exists.

    ``mention`` (for mention alerts) records its platform, author and thread on the alert.
    """
    alerts_t = m.AlertOutbox.__table__
    insert = insert_for(conn)
    alert_id = conn.execute(
        insert(alerts_t)
        .values(
            key=key,
            kind=kind,
            mention_id=mention_id,
            route=route,
            priority=priority,
            title=title,
            body=body,
            created_at=now,
            platform=mention.platform if mention else None,
            author_handle=mention.author_handle if mention else None,
            conversation_id=mention.conversation_id if mention else None,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(alerts_t.c.id)
    ).scalar()
    if alert_id is None:
        return None
    rows = [
        {
            "alert_id": alert_id,
            "destination": d.id,
            "destination_label": d.label,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "log": [],
        }
        for d in targets
    ]
    if rows:
        conn.execute(m.AlertDelivery.__table__.insert(), rows)
    return alert_id


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this process now owns, with what is needed to send it."""

    delivery_id: int
    alert_id: int
    destination: str
    attempts: int
    kind: str
    key: str
    route: str
    mention_id: int | None
    priority: str | None
    title: str | None
    body: str | None
    created_at: datetime


def due(engine: Engine, now: datetime, limit: int = 500) -> dict[str, list[int]]:
    """Ids of deliveries whose next attempt is due, oldest first, grouped by destination."""
    t = m.AlertDelivery.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.destination)
            .where(t.c.status.in_(RETRYABLE), t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        groups: dict[str, list[int]] = {}
        for delivery_id, destination in rows:
            groups.setdefault(destination, []).append(delivery_id)
        return groups


def claim(
    engine: Engine, delivery_id: int, now: datetime, *, owner: str | None = None, ttl: float = CLAIM_TTL
) -> Claimed | None:
    """Mark one delivery ``sending`` (attempts + 1) claimed by ``owner``; None if someone else took it."""
    d = m.AlertDelivery.__table__
    a = m.AlertOutbox.__table__
    with engine.begin() as conn:
        # Row claim (SKIP LOCKED / compare-and-set): a second notifier on the database cannot take it too.
        taken = claims.claim_row(
            conn,
            d,
            delivery_id,
            owner=owner or claims.holder(),
            now=now,
            ttl=ttl,
            where=d.c.status.in_(RETRYABLE),
            values={"status": "sending", "attempts": d.c.attempts + 1, "last_attempt_at": now},
        )
        if not taken:
            return None
        row = conn.execute(
            select(
                d.c.id,
                d.c.alert_id,
                d.c.destination,
                d.c.attempts,
                a.c.kind,
                a.c.key,
                a.c.route,
                a.c.mention_id,
                a.c.priority,
                a.c.title,
                a.c.body,
                a.c.created_at,
            )
            .select_from(d.join(a, a.c.id == d.c.alert_id))
            .where(d.c.id == delivery_id)
        ).one()
    return Claimed(*row)


def record(
    engine: Engine,
    delivery_id: int,
    *,
    status: str,
    now: datetime,
    entry: dict[str, Any],
    next_attempt_at: datetime | None = None,
    error: str | None = None,
    owner: str | None = None,
) -> None:
    """Store the outcome of the attempt just made, append it to the row's log, release the claim."""
    d = m.AlertDelivery.__table__
    with engine.begin() as conn:
        current = conn.execute(select(d.c.log).where(d.c.id == delivery_id)).scalar() or []
        values: dict[str, Any] = {
            "status": status,
            "log": [*current, entry],
            "next_attempt_at": next_attempt_at,
            "last_error": error,
            "claimed_by": None,
            "claimed_at": None,
        }
        if status == "delivered":
            values["delivered_at"] = now
        mine = d.c.claimed_by == owner if owner else true()
        conn.execute(
            update(d).where(and_(d.c.id == delivery_id, d.c.status == "sending", mine)).values(**values)
        )


def recover(engine: Engine, now: datetime, *, owner: str | None = None, ttl: float = CLAIM_TTL) -> int:
    """Rows left in ``sending`` by a process that died mid-send become ``unknown``; returns how many.

    A row is settled when its holder is dead: its claim was not renewed for
    ``ttl`` seconds, or it names a process of this instance that no longer runs.
    A live instance's send in progress is left alone.
    """
    d = m.AlertDelivery.__table__
    with engine.begin() as conn:
        taken = claims.take_over(
            conn, d, owner=owner or claims.holder(), now=now, ttl=ttl, where=d.c.status == "sending"
        )
        # Our own rows whose claim expired: their outcome could not be recorded (database away).
        own = (
            conn.execute(
                select(d.c.id).where(
                    d.c.status == "sending",
                    d.c.claimed_by == (owner or claims.holder()),
                    claims.expired(d, now, ttl),
                )
            )
            .scalars()
            .all()
        )
        # Rows from before claims existed (or claimed by nobody) were left by a dead process too.
        unowned = (
            conn.execute(select(d.c.id).where(d.c.status == "sending", d.c.claimed_by.is_(None)))
            .scalars()
            .all()
        )
        ids = [i for i, _ in taken] + list(own) + list(unowned)
        rows = conn.execute(select(d.c.id, d.c.log).where(d.c.id.in_(ids))).all() if ids else []
        for row in rows:
            entry = {
                "at": now.isoformat(),
                "outcome": "unknown",
                "error": "the notifier stopped during this send; it may or may not have arrived",
            }
            conn.execute(
                update(d)
                .where(d.c.id == row.id, d.c.status == "sending")
                .values(
                    status="unknown",
                    claimed_by=None,
                    claimed_at=None,
                    next_attempt_at=None,
                    last_error="interrupted during send (process stopped); not re-sent to avoid a duplicate",
                    log=[*(row.log or []), entry],
                )
            )
    return len(rows)


def undelivered_since(engine: Engine, since: datetime) -> list[dict[str, Any]]:
    """Deliveries attempted at or after ``since`` that did not arrive (failed, gave up or unknown)."""
    d = m.AlertDelivery.__table__
    with engine.connect() as conn:
        found = conn.execute(
            select(d.c.alert_id, d.c.destination_label, d.c.status, d.c.last_error)
            .where(d.c.last_attempt_at >= since, d.c.status != "delivered")
            .order_by(d.c.id)
        )
        return [dict(r) for r in found.mappings()]
