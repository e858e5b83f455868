"""Keeps ``report_complaint`` and ``report_open`` in step with the mentions (called by the roll-up).

``report_complaint`` holds one row per complaint: its author's previous complaint
(``prev_at``) and, while the complaint is open, its status; ``report_open`` sums the open
ones per UTC day, platform and status. :func:`reconcile` brings the rows of some mentions
in line with what the mentions are now (a complaint or not, open or not) and is
idempotent, so the roll-up may hand it the same mention twice. It is fed the newly stored
mentions, and every mention named by a new audit event or label correction (each status
change and relabel writes one; see :mod:`monitor.workflow`).

A mention that is gone (pruned: only closed ones are) keeps its row, so reports keep
their history, as the other roll-ups do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from monitor.store import models as m
from monitor.store.db import insert_for

OPEN_STATUSES = ("new", "acknowledged", "replied")
CHUNK = 500


def _day(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def mention_rows(conn: Connection, ids: Iterable[int]) -> list[Any]:
    """What :func:`reconcile` needs of these mentions (those still stored)."""
    t = m.Mention.__table__
    ids = sorted(set(ids))
    out: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        out += conn.execute(
            select(t.c.id, t.c.platform, t.c.author_handle, t.c.created_at, t.c.label, t.c.status).where(
                t.c.id.in_(ids[start : start + CHUNK])
            )
        ).all()
    return out


def reconcile(conn: Connection, rows: Sequence[Any], *, fresh: bool = False) -> int:
    """Make the complaint rows of these mentions (``id, platform, author_handle, created_at,
    label, status``) match them; returns how many rows changed.

    ``fresh``: the mentions were never reconciled before (newly stored), so there is nothing
    to look up or take back.
    """
    rc = m.ReportComplaint.__table__
    have: dict[int, Any] = {}
    if not fresh and rows:
        ids = [r.id for r in rows]
        for start in range(0, len(ids), CHUNK):
            for r in conn.execute(
                select(
                    rc.c.mention_id, rc.c.platform, rc.c.author_handle, rc.c.created_at, rc.c.open_status
                ).where(rc.c.mention_id.in_(ids[start : start + CHUNK]))
            ):
                have[r.mention_id] = r
    opened: dict[tuple[datetime, str, str], int] = defaultdict(int)
    added: list[dict[str, Any]] = []
    dropped: list[int] = []
    restatus: list[dict[str, Any]] = []
    authors: set[tuple[str, str]] = set()
    for row in rows:
        old = have.get(row.id)
        want = row.label == "complaint"
        status = row.status if want and row.status in OPEN_STATUSES else None
        if old is not None and old.open_status is not None and (not want or old.open_status != status):
            opened[(_day(old.created_at), old.platform, old.open_status)] -= 1
        if status is not None and (old is None or old.open_status != status):
            opened[(_day(row.created_at), row.platform, status)] += 1
        if old is not None and not want:
            dropped.append(row.id)
            authors.add((old.platform, old.author_handle))
        elif old is None and want:
            added.append(
                {
                    "mention_id": row.id,
                    "platform": row.platform,
                    "author_handle": row.author_handle,
                    "created_at": row.created_at,
                    "prev_at": None,
                    "open_status": status,
                }
            )
            authors.add((row.platform, row.author_handle))
        elif old is not None and old.open_status != status:
            restatus.append({"mid": row.id, "st": status})
    for start in range(0, len(dropped), CHUNK):
        conn.execute(rc.delete().where(rc.c.mention_id.in_(dropped[start : start + CHUNK])))
    if restatus:
        conn.execute(
            update(rc).where(rc.c.mention_id == bindparam("mid")).values(open_status=bindparam("st")),
            restatus,
        )
    if authors:
        _rechain(conn, authors, added)
    _add_open(conn, opened)
    return len(added) + len(dropped) + len(restatus)


def _rechain(conn: Connection, authors: set[tuple[str, str]], added: list[dict[str, Any]]) -> None:
    """Set ``prev_at`` along each of these authors' complaints; insert the ``added`` rows."""
    rc = m.ReportComplaint.__table__
    chains: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in added:
        chains[(row["platform"], row["author_handle"])].append(row)
    per_platform: dict[str, list[str]] = defaultdict(list)
    for platform, handle in authors:
        per_platform[platform].append(handle)
    for platform, handles in per_platform.items():
        handles.sort()
        for start in range(0, len(handles), CHUNK):
            for r in conn.execute(
                select(rc.c.mention_id, rc.c.author_handle, rc.c.created_at, rc.c.prev_at).where(
                    rc.c.platform == platform, rc.c.author_handle.in_(handles[start : start + CHUNK])
                )
            ):
                chains[(platform, r.author_handle)].append(
                    {
                        "mention_id": r.mention_id,
                        "created_at": r.created_at,
                        "prev_at": r.prev_at,
                        "old": True,
                    }
                )
    changed: list[dict[str, Any]] = []
    for chain in chains.values():
        chain.sort(key=lambda x: (x["created_at"], x["mention_id"]))
        previous = None
        for item in chain:
            if item.get("old"):
                if item["prev_at"] != previous:
                    changed.append({"mid": item["mention_id"], "prev": previous})
            else:
                item["prev_at"] = previous
            previous = item["created_at"]
    if added:
        conn.execute(insert_for(conn)(rc), added)
    if changed:
        conn.execute(
            update(rc).where(rc.c.mention_id == bindparam("mid")).values(prev_at=bindparam("prev")), changed
        )


def _add_open(conn: Connection, deltas: dict[tuple[datetime, str, str], int]) -> None:
    rows = [{"day": d, "platform": p, "status": s, "n": n} for (d, p, s), n in deltas.items() if n]
    if not rows:
        return
    table = m.ReportOpen.__table__
    stmt = insert_for(conn)(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "platform", "status"], set_={"n": table.c.n + stmt.excluded.n}
    )
    conn.execute(stmt, rows)
