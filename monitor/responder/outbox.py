"""The reply outbox on the sender's side: claim the next due reply, settle interrupted sends, record outcomes.

Rows are queued by :func:`monitor.workflow.request_reply` (in the transaction that
records who asked). Claiming uses :mod:`monitor.store.claims` (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), so several daemons on one database never send the same
reply. A claimed row is ``sending`` with ``attempts + 1`` committed *before* the
platform is called; a process killed mid-send leaves it ``sending`` with a dead
holder, and :func:`recover` puts it back to ``pending`` marked *interrupted*: the
next attempt first looks for the reply on the platform (see docs/responder.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection, Engine

from monitor.store import claims
from monitor.store import models as m

# A send takes at most the request timeout; a claim older than this belongs to a dead process.
MIN_CLAIM_TTL = 120.0
# Outcomes after which the platform may already have the reply: look before sending again.
MAYBE_POSTED = ("ambiguous", "interrupted")


def table() -> Any:
    return m.ReplyOutbox.__table__


def claim_next(
    engine: Engine, *, owner: str, now: datetime, ttl: float, paused: Iterable[str] = ()
) -> Any | None:
    """Claim the oldest due ``pending`` reply (not for a ``paused`` source): ``sending``, attempts + 1."""
    t = table()
    where = and_(t.c.status == "pending", t.c.next_attempt_at <= now)
    paused = list(paused)
    if paused:
        where = and_(where, t.c.source.not_in(paused))
    with engine.begin() as conn:
        row_id = claims.claim_next(
            conn,
            t,
            owner=owner,
            now=now,
            ttl=ttl,
            where=where,
            order_by=(t.c.next_attempt_at, t.c.id),
            values={"status": "sending", "attempts": t.c.attempts + 1, "last_attempt_at": now},
        )
        if row_id is None:
            return None
        return conn.execute(select(t).where(t.c.id == row_id)).first()


def claim_one(engine: Engine, reply_id: int, *, owner: str, now: datetime, ttl: float) -> Any | None:
    """Claim one given reply if it is ``pending`` (due or not): for ``replies --send ID``."""
    t = table()
    with engine.begin() as conn:
        got = claims.claim_row(
            conn,
            t,
            reply_id,
            owner=owner,
            now=now,
            ttl=ttl,
            where=t.c.status == "pending",
            values={"status": "sending", "attempts": t.c.attempts + 1, "last_attempt_at": now},
        )
        if not got:
            return None
        return conn.execute(select(t).where(t.c.id == reply_id)).first()


def append_log(conn: Connection, reply_id: int, entry: dict[str, Any]) -> None:
    t = table()
    current = conn.execute(select(t.c.log).where(t.c.id == reply_id)).scalar() or []
    conn.execute(update(t).where(t.c.id == reply_id).values(log=[*current, entry][-50:]))


def requeue(
    conn: Connection,
    reply_id: int,
    *,
    owner: str,
    next_attempt_at: datetime,
    error: str,
    entry: dict[str, Any],
    refund: bool = False,
) -> None:
    """Back to ``pending`` for a later attempt; ``refund`` gives the attempt back (a 429 is not a failure)."""
    t = table()
    values: dict[str, Any] = {"status": "pending", "next_attempt_at": next_attempt_at, "last_error": error}
    if refund:
        values["attempts"] = t.c.attempts - 1
    claims.release(conn, t, reply_id, owner=owner, values=values)
    append_log(conn, reply_id, entry)


def maybe_posted(log: list[Any] | None) -> bool:
    """An earlier attempt may have reached the platform (timeout, dropped answer, killed process).

    Any such attempt counts, not just the last: a later 429 says nothing about the earlier send.
    """
    return any(isinstance(e, dict) and e.get("outcome") in MAYBE_POSTED for e in log or [])


def recover(engine: Engine, *, owner: str, now: datetime, ttl: float) -> int:
    """Replies left ``sending`` by a dead process go back to ``pending``, marked interrupted; how many."""
    t = table()
    with engine.begin() as conn:
        taken = claims.take_over(conn, t, owner=owner, now=now, ttl=ttl, where=t.c.status == "sending")
        # Our own rows stuck in ``sending`` (the bookkeeping commit failed, e.g. the database was away).
        stuck = conn.execute(
            select(t.c.id).where(
                t.c.status == "sending", t.c.claimed_by == owner, claims.expired(t, now, ttl)
            )
        ).scalars()
        taken += [(reply_id, owner) for reply_id in stuck]
        for reply_id, previous in taken:
            claims.release(
                conn, t, reply_id, owner=owner, values={"status": "pending", "next_attempt_at": now}
            )
            append_log(
                conn,
                reply_id,
                {
                    "at": now.isoformat(),
                    "outcome": "interrupted",
                    "detail": f"the sender ({previous}) stopped during this send; the platform is checked "
                    "for the reply before it is sent again",
                },
            )
    return len(taken)
