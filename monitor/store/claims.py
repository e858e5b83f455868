"""Row claims for outboxes shared by several instances: who is working on a row, since when.

A claim is two columns on the row, ``claimed_by`` (a :func:`holder` id) and
``claimed_at``. A live instance renews its claims (:func:`renew`); a claim not
renewed for ``ttl`` seconds belongs to a dead or hung instance and may be taken
over. On PostgreSQL the next row is picked with ``SELECT … FOR UPDATE SKIP
LOCKED``, so concurrent claimers never wait on or get the same row; SQLite has a
single writer, so a compare-and-set ``UPDATE … WHERE claimed_by IS NULL OR the
claim expired`` is just as atomic. Every function runs inside the caller's
transaction (pass a ``Connection`` from ``engine.begin()``): the claim commits
together with whatever status change the caller makes.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, or_, select, true, update
from sqlalchemy.engine import Connection

__all__ = [
    "claim_next",
    "claim_row",
    "claimable",
    "expired",
    "holder",
    "holder_dead",
    "instance_name",
    "release",
    "renew",
    "take_over",
]


def instance_name() -> str:
    """This instance's name: ``MENTION_MONITOR_INSTANCE`` or the host name."""
    return os.environ.get("MENTION_MONITOR_INSTANCE") or socket.gethostname()


def holder() -> str:
    """The claim id of this process: ``<instance>/<pid>``.

    The pid part lets a restarted process on the same host see at once that the
    previous holder is gone (:func:`holder_dead`) instead of waiting for expiry.
    """
    return f"{instance_name()}/{os.getpid()}"


def holder_dead(claimed_by: str | None) -> bool:
    """True when ``claimed_by`` names a process of *this* instance that no longer runs.

    Only answerable for our own instance name (other hosts' pids mean nothing
    here); for them, expiry decides.
    """
    if not claimed_by or "/" not in claimed_by:
        return False
    name, _, pid = claimed_by.rpartition("/")
    if name != instance_name() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


def expired(table: Table, now: datetime, ttl: float) -> ColumnElement[bool]:
    """The claim on a row was not renewed for ``ttl`` seconds (or was never timed)."""
    cutoff = now - timedelta(seconds=ttl)
    return or_(table.c.claimed_at.is_(None), table.c.claimed_at < cutoff)


def claimable(table: Table, now: datetime, ttl: float, dead: Sequence[str] = ()) -> ColumnElement[bool]:
    """Nobody holds the row, or its holder's claim expired, or its holder is known dead."""
    options = [table.c.claimed_by.is_(None), and_(table.c.claimed_by.is_not(None), expired(table, now, ttl))]
    if dead:
        options.append(table.c.claimed_by.in_(list(dead)))
    return or_(*options)


def claim_next(
    conn: Connection,
    table: Table,
    *,
    owner: str,
    now: datetime,
    ttl: float,
    where: ColumnElement[bool] | None = None,
    order_by: Sequence[Any] = (),
    values: dict[str, Any] | None = None,
    dead: Sequence[str] = (),
) -> int | None:
    """Claim the first claimable row matching ``where``; its id, or None when there is none.

    ``values`` are set on the row in the same statement (e.g. ``status="sending"``).
    """
    cond = and_(where if where is not None else true(), claimable(table, now, ttl, dead))
    pick = select(table.c.id).where(cond).order_by(*(order_by or (table.c.id,))).limit(1)
    new = {"claimed_by": owner, "claimed_at": now, **(values or {})}
    if conn.dialect.name == "postgresql":
        row_id = conn.execute(pick.with_for_update(skip_locked=True)).scalar()
        if row_id is None:
            return None
        conn.execute(update(table).where(table.c.id == row_id).values(**new))
        return int(row_id)
    # SQLite: one writer at a time; compare-and-set, retrying if a rival won the row in between.
    for _ in range(5):
        row_id = conn.execute(pick).scalar()
        if row_id is None:
            return None
        done = conn.execute(update(table).where(table.c.id == row_id, cond).values(**new)).rowcount
        if done == 1:
            return int(row_id)
    return None


def claim_row(
    conn: Connection,
    table: Table,
    row_id: int,
    *,
    owner: str,
    now: datetime,
    ttl: float,
    where: ColumnElement[bool] | None = None,
    values: dict[str, Any] | None = None,
    dead: Sequence[str] = (),
) -> bool:
    """Claim the row ``row_id`` if it matches ``where`` and is claimable; True when we got it.

    On PostgreSQL a row another transaction is claiming right now is skipped, not waited for.
    """
    return (
        claim_next(
            conn,
            table,
            owner=owner,
            now=now,
            ttl=ttl,
            where=and_(table.c.id == row_id, where if where is not None else true()),
            values=values,
            dead=dead,
        )
        is not None
    )


def renew(conn: Connection, table: Table, *, owner: str, now: datetime) -> int:
    """Refresh every claim ``owner`` holds on ``table``; returns how many."""
    return conn.execute(update(table).where(table.c.claimed_by == owner).values(claimed_at=now)).rowcount


def release(
    conn: Connection, table: Table, row_id: int, *, owner: str, values: dict[str, Any] | None = None
) -> bool:
    """Drop our claim on ``row_id`` (setting ``values`` too); False if we no longer held it."""
    return (
        conn.execute(
            update(table)
            .where(table.c.id == row_id, table.c.claimed_by == owner)
            .values(claimed_by=None, claimed_at=None, **(values or {}))
        ).rowcount
        == 1
    )


def take_over(
    conn: Connection,
    table: Table,
    *,
    owner: str,
    now: datetime,
    ttl: float,
    where: ColumnElement[bool] | None = None,
    limit: int = 100,
) -> list[tuple[int, str | None]]:
    """Claim rows whose holder is dead (expired claim, or a dead process of this instance).

    Only rows that *are* held (``claimed_by`` set) and match ``where``; returns
    ``(id, previous holder)`` pairs, now claimed by ``owner``, for the caller to
    settle (e.g. an interrupted send becomes ``unknown``).
    """
    base = and_(
        table.c.claimed_by.is_not(None), table.c.claimed_by != owner, where if where is not None else true()
    )
    held = conn.execute(select(table.c.claimed_by).where(base).distinct()).scalars().all()
    dead = [h for h in held if holder_dead(h)]
    taken: list[tuple[int, str | None]] = []
    while len(taken) < limit:
        prev_q = select(table.c.id, table.c.claimed_by).where(
            base, or_(expired(table, now, ttl), table.c.claimed_by.in_(dead) if dead else false())
        )
        prev_q = prev_q.order_by(table.c.id).limit(1)
        if conn.dialect.name == "postgresql":
            prev_q = prev_q.with_for_update(skip_locked=True)
        row = conn.execute(prev_q).first()
        if row is None:
            break
        done = conn.execute(
            update(table)
            .where(table.c.id == row.id, table.c.claimed_by == row.claimed_by)
            .values(claimed_by=owner, claimed_at=now)
        ).rowcount
        if done == 1:
            taken.append((int(row.id), row.claimed_by))
    return taken
