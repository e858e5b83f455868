"""Ambiguous sends (``unknown``): what happens next, so no urgent alert is silently lost.

A delivery is ``unknown`` when the send may or may not have arrived (the process
died mid-send, or the target took the request and never answered in time). The
row keeps that honest record; this module decides its follow-up once, in the
``followup`` column:

* ``resend`` — a P1/P2 alert (``alerts.ambiguous.resend_priorities``; operator
  alerts too): after ``alerts.ambiguous.resend_after`` seconds it is released
  (``resent``) and sent once more through the normal outbox, its message marked
  "re-sent: an earlier delivery may not have arrived". If that second send is
  ambiguous as well, it stays ``unknown``: one re-send, never a loop.
* ``digest`` — a P3 alert while a digest route is configured: the next digest
  lists it (``digested``, ``followup_alert_id`` = that digest).
* ``none`` — anything else (a digest itself, P3 without a digest): shown and counted only.

:func:`counts` is what ``mention-monitor alerts --status unknown`` and the
operator check (:mod:`monitor.alerts.operators`) read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from monitor.alerts.settings import AlertSettings
from monitor.store import models as m

RESEND_NOTE = "re-sent: an earlier delivery may not have arrived"

# Follow-up states (the ``alert_delivery.followup`` column).
RESEND, RESENT, DIGEST, DIGESTED, NONE = "resend", "resent", "digest", "digested", "none"


def decide(kind: str, priority: str | None, settings: AlertSettings) -> str:
    """The follow-up for an ambiguous send of an alert of this kind and priority."""
    if kind == "digest":
        return NONE
    if kind == "operator" or (priority or "P3") in settings.ambiguous.resend_priorities:
        return RESEND
    if settings.digest.route is not None:
        return DIGEST
    return NONE


def plan(conn: Connection, settings: AlertSettings, now: datetime) -> int:
    """Give every ``unknown`` delivery without a follow-up its follow-up; returns how many."""
    d = m.AlertDelivery.__table__
    a = m.AlertOutbox.__table__
    rows = conn.execute(
        select(d.c.id, d.c.last_attempt_at, d.c.last_error, a.c.kind, a.c.priority)
        .select_from(d.join(a, a.c.id == d.c.alert_id))
        .where(d.c.status == "unknown", d.c.followup.is_(None))
        .limit(500)
    ).all()
    grace = timedelta(seconds=settings.ambiguous.resend_after)
    for row in rows:
        what = decide(row.kind, row.priority, settings)
        values: dict[str, object] = {"followup": what}
        if what == RESEND:
            at = max(now, (row.last_attempt_at or now) + grace)
            values["next_attempt_at"] = at
            values["last_error"] = _note(
                row.last_error, f"re-sending once at {at:%H:%M:%S} UTC, marked as a possible repeat"
            )
        elif what == DIGEST:
            values["last_error"] = _note(row.last_error, "listed in the next digest instead")
        conn.execute(
            update(d)
            .where(d.c.id == row.id, d.c.status == "unknown", d.c.followup.is_(None))
            .values(**values)
        )
    return len(rows)


def _note(error: str | None, what: str) -> str:
    base = (error or "ambiguous send").split("; not re-sent")[0]
    return f"{base}; {what}"


def release(conn: Connection, now: datetime) -> int:
    """P1/P2 ambiguous sends whose grace period is over go back to the outbox, once; returns how many."""
    d = m.AlertDelivery.__table__
    rows = conn.execute(
        select(d.c.id, d.c.log).where(
            d.c.status == "unknown", d.c.followup == RESEND, d.c.next_attempt_at <= now
        )
    ).all()
    for row in rows:
        entry = {
            "at": now.isoformat(),
            "outcome": "resend",
            "detail": "the earlier send was ambiguous; sending once more, marked as a possible repeat",
        }
        conn.execute(
            update(d)
            .where(d.c.id == row.id, d.c.status == "unknown", d.c.followup == RESEND)
            .values(status="pending", followup=RESENT, next_attempt_at=now, log=[*(row.log or []), entry])
        )
    return len(rows)


def is_resend(conn: Connection, delivery_id: int) -> bool:
    """Is this delivery the one re-send of an ambiguous send (its message must say so)?"""
    d = m.AlertDelivery.__table__
    return conn.execute(select(d.c.followup).where(d.c.id == delivery_id)).scalar() == RESENT


def take_for_digest(conn: Connection, digest_alert_id: int) -> int:
    """Attach every P3 ambiguous send waiting for a digest to this digest alert; returns how many."""
    d = m.AlertDelivery.__table__
    return conn.execute(
        update(d).where(d.c.followup == DIGEST).values(followup=DIGESTED, followup_alert_id=digest_alert_id)
    ).rowcount


def waiting_for_digest(conn: Connection) -> int:
    d = m.AlertDelivery.__table__
    return conn.execute(select(func.count()).where(d.c.followup == DIGEST)).scalar_one()


def carried_by(conn: Connection, digest_alert_id: int) -> list[tuple[int | None, str | None]]:
    """(mention id, alert title) of the ambiguous P3 sends a digest carries, oldest first."""
    d = m.AlertDelivery.__table__
    a = m.AlertOutbox.__table__
    rows = conn.execute(
        select(a.c.mention_id, a.c.title)
        .select_from(d.join(a, a.c.id == d.c.alert_id))
        .where(d.c.followup == DIGESTED, d.c.followup_alert_id == digest_alert_id)
        .order_by(a.c.id)
    ).all()
    return list(dict.fromkeys((r.mention_id, r.title) for r in rows))


@dataclass(frozen=True, slots=True)
class Counts:
    """Ambiguous sends and what became of them."""

    unknown_now: int  # deliveries whose status is ``unknown`` at the moment
    resend_waiting: int  # P1/P2, grace period not over yet
    resent: int  # P1/P2 re-sent once, marked (whatever that second send's outcome)
    resent_delivered: int
    resent_unknown: int  # the re-send was ambiguous too: left as is
    digest_waiting: int  # P3 waiting for the next digest
    digested: int  # P3 listed in a digest
    left: int  # no follow-up (digests themselves, P3 without a digest route)
    recent: int  # ambiguous sends recorded in the last hour (operator check)

    @property
    def total(self) -> int:
        return self.resend_waiting + self.resent + self.digest_waiting + self.digested + self.left


def recent(conn: Connection, now: datetime) -> int:
    """Ambiguous sends recorded in the last hour (one indexed count; the operator check runs it often)."""
    d = m.AlertDelivery.__table__
    return conn.execute(
        select(func.count()).where(d.c.followup.is_not(None), d.c.last_attempt_at >= now - timedelta(hours=1))
    ).scalar_one()


def counts(conn: Connection, now: datetime) -> Counts:
    d = m.AlertDelivery.__table__
    by: dict[tuple[str | None, str], int] = {}
    for followup, status, n in conn.execute(
        select(d.c.followup, d.c.status, func.count())
        .where(and_(d.c.followup.is_not(None)) | (d.c.status == "unknown"))
        .group_by(d.c.followup, d.c.status)
    ):
        by[(followup, status)] = n

    def total(what: str | None) -> int:
        return sum(n for (f, _), n in by.items() if f == what)

    recent = conn.execute(
        select(func.count()).where(d.c.followup.is_not(None), d.c.last_attempt_at >= now - timedelta(hours=1))
    ).scalar_one()
    return Counts(
        unknown_now=sum(n for (_, s), n in by.items() if s == "unknown"),
        resend_waiting=total(RESEND),
        resent=total(RESENT),
        resent_delivered=by.get((RESENT, "delivered"), 0),
        resent_unknown=by.get((RESENT, "unknown"), 0),
        digest_waiting=total(DIGEST),
        digested=total(DIGESTED),
        left=total(NONE) + total(None),
        recent=recent,
    )


def summary(c: Counts) -> list[str]:
    """Lines for ``mention-monitor alerts --status unknown``."""
    return [
        f"ambiguous sends (may or may not have arrived): {c.total} in all, {c.unknown_now} unknown now",
        f"  P1/P2 re-sent once, marked as a possible repeat: {c.resent} "
        f"({c.resent_delivered} delivered, {c.resent_unknown} ambiguous again); "
        f"{c.resend_waiting} waiting for the grace period",
        f"  P3 listed in a digest: {c.digested}; waiting for the next digest: {c.digest_waiting}",
        f"  no follow-up (digests, P3 without a digest route): {c.left}",
    ]
