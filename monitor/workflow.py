"""The support workflow on stored mentions: acknowledge, assign, reply, resolve, ignore, relabel.

The CLI, signed chat links and the dashboard all call these functions, so every
change is validated the same way and written to the audit log (``event``) with
who and when, in the same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from monitor.store import models as m
from monitor.triage.model import LABELS


class WorkflowError(ValueError):
    """A workflow request that cannot be done as asked (unknown label, empty assignee…)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    mention_id: int
    result: str  # "changed" | "unchanged" | "missing"
    status: str | None = None
    detail: str = ""


# Which statuses each action may leave; anything else is reported "unchanged".
_FROM = {
    "acknowledge": {"new"},
    "resolve": {"new", "acknowledged", "replied"},
    "ignore": {"new", "acknowledged", "replied", "resolved"},
    "reopen": {"resolved", "ignored"},
    "replied": {"new", "acknowledged"},
}
_TO = {
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "ignore": "ignored",
    "reopen": "acknowledged",
    "replied": "replied",
}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _event(conn: Connection, mention_id: int, action: str, actor: str, at: datetime, **detail: Any) -> None:
    conn.execute(
        m.Event.__table__.insert().values(
            mention_id=mention_id, action=action, actor=actor, at=at, detail=detail
        )
    )


def transition(
    engine: Engine,
    ids: Iterable[int],
    action: str,
    *,
    actor: str,
    now: datetime | None = None,
    note: str | None = None,
) -> list[Outcome]:
    """Move mentions through the workflow; one outcome per id, in the order given."""
    if action not in _TO:
        raise WorkflowError(f"unknown action {action!r}; use one of {', '.join(sorted(_TO))}")
    at = _now(now)
    table = m.Mention.__table__
    outcomes = []
    with engine.begin() as conn:
        for mention_id in ids:
            row = conn.execute(
                select(table.c.status, table.c.acknowledged_at, table.c.first_response_at).where(
                    table.c.id == mention_id
                )
            ).first()
            if row is None:
                outcomes.append(Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}"))
                continue
            if row.status not in _FROM[action]:
                outcomes.append(Outcome(mention_id, "unchanged", row.status, f"already {row.status}"))
                continue
            target = _TO[action]
            values: dict[str, Any] = {"status": target, "updated_at": at}
            if row.acknowledged_at is None and target in ("acknowledged", "replied", "resolved"):
                values["acknowledged_at"] = at
            if target == "replied" and row.first_response_at is None:
                values["first_response_at"] = at
            if target == "resolved":
                values["resolved_at"] = at
            conn.execute(update(table).where(table.c.id == mention_id).values(**values))
            _event(
                conn,
                mention_id,
                action,
                actor,
                at,
                before=row.status,
                after=target,
                **({"note": note} if note else {}),
            )
            outcomes.append(Outcome(mention_id, "changed", target))
    return outcomes


def acknowledge(
    engine: Engine, ids: Iterable[int], *, actor: str, now: datetime | None = None
) -> list[Outcome]:
    return transition(engine, ids, "acknowledge", actor=actor, now=now)


def resolve(
    engine: Engine, ids: Iterable[int], *, actor: str, now: datetime | None = None, note: str | None = None
) -> list[Outcome]:
    return transition(engine, ids, "resolve", actor=actor, now=now, note=note)


def ignore(
    engine: Engine, ids: Iterable[int], *, actor: str, now: datetime | None = None, note: str | None = None
) -> list[Outcome]:
    return transition(engine, ids, "ignore", actor=actor, now=now, note=note)


def assign(
    engine: Engine, ids: Iterable[int], assignee: str, *, actor: str, now: datetime | None = None
) -> list[Outcome]:
    """Give mentions an owner (empty string or ``-`` clears it). Status is left as it is."""
    who: str | None = assignee.strip()
    if who in ("", "-"):
        who = None
    at = _now(now)
    table = m.Mention.__table__
    outcomes = []
    with engine.begin() as conn:
        for mention_id in ids:
            row = conn.execute(
                select(table.c.status, table.c.assignee).where(table.c.id == mention_id)
            ).first()
            if row is None:
                outcomes.append(Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}"))
                continue
            if row.assignee == who:
                outcomes.append(
                    Outcome(mention_id, "unchanged", row.status, f"already assigned to {who or 'nobody'}")
                )
                continue
            conn.execute(update(table).where(table.c.id == mention_id).values(assignee=who, updated_at=at))
            _event(conn, mention_id, "assign", actor, at, before=row.assignee, after=who)
            outcomes.append(Outcome(mention_id, "changed", row.status, f"assigned to {who or 'nobody'}"))
    return outcomes


def correct_label(
    engine: Engine, mention_id: int, label: str, *, actor: str, now: datetime | None = None
) -> Outcome:
    """Record an agent's correction of the triage label (evaluation and training data)."""
    if label not in LABELS:
        raise WorkflowError(f"unknown label {label!r}; use one of {', '.join(LABELS)}")
    at = _now(now)
    table = m.Mention.__table__
    with engine.begin() as conn:
        row = conn.execute(select(table.c.label, table.c.status).where(table.c.id == mention_id)).first()
        if row is None:
            return Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}")
        conn.execute(
            m.LabelCorrection.__table__.insert().values(
                mention_id=mention_id, predicted=row.label, corrected=label, actor=actor, at=at
            )
        )
        conn.execute(update(table).where(table.c.id == mention_id).values(label=label, updated_at=at))
        _event(conn, mention_id, "relabel", actor, at, before=row.label, after=label)
    return Outcome(mention_id, "changed" if row.label != label else "unchanged", row.status, f"label {label}")
