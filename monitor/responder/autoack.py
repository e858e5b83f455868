"""Auto-acknowledge: one public "we're on it" reply to a complaint, within strict limits.

Off unless ``responder.auto_ack.enabled``. A mention qualifies when it is a
complaint, alerted on one of ``auto_ack.routes``, younger than
``max_age_minutes``, has no reply yet, is not folded into an incident (unless
``incident_members``), and its author got no automatic reply within
``author_window_hours``; never more than ``max_per_hour`` automatic replies in
any hour. Praise, questions and everything else are never auto-answered.
Automatic replies are flagged everywhere they are listed and do not stop the
first-response clock. :func:`plan` is pure reading (``auto-ack --dry-run``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor import workflow
from monitor.store import models as m

log = logging.getLogger(__name__)

ACTOR = "auto-ack"


@dataclass(frozen=True, slots=True)
class Decision:
    """One candidate: ``send`` or the reason it is skipped; ``text`` is what would be posted."""

    mention_id: int
    platform: str
    author: str
    route: str
    send: bool
    reason: str = ""
    text: str = ""


def plan(engine: Engine, config: Any, *, now: datetime, limit: int = 200) -> list[Decision]:
    """What auto-acknowledge would do now (nothing is written)."""
    settings = config.responder.auto_ack
    if not settings.routes:
        return []
    mt = m.Mention.__table__
    at = m.AlertOutbox.__table__
    rt = m.ReplyOutbox.__table__
    has_reply = select(rt.c.id).where(rt.c.mention_id == mt.c.id).exists()
    alerted = (
        select(at.c.mention_id, func.min(at.c.route).label("route"))
        .where(at.c.kind == "mention", at.c.route.in_(settings.routes))
        .group_by(at.c.mention_id)
        .subquery()
    )
    query = (
        select(mt, alerted.c.route)
        .select_from(mt.join(alerted, alerted.c.mention_id == mt.c.id))
        .where(
            mt.c.label == "complaint",
            mt.c.created_at >= now - timedelta(minutes=settings.max_age_minutes),
            mt.c.status.in_(("new", "acknowledged")),
            mt.c.claimed_by.is_(None),  # a person is on it
            ~has_reply,
        )
        .order_by(mt.c.created_at, mt.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        candidates = conn.execute(query).all()
        if not candidates:
            return []
        sent_hour = conn.execute(
            select(func.count())
            .select_from(rt)
            .where(rt.c.automatic.is_(True), rt.c.created_at >= now - timedelta(hours=1))
        ).scalar_one()
        window_start = now - timedelta(hours=settings.author_window_hours)
        recent = {
            (p, a)
            for p, a in conn.execute(
                select(mt.c.platform, mt.c.author_handle)
                .select_from(rt.join(mt, mt.c.id == rt.c.mention_id))
                .where(rt.c.automatic.is_(True), rt.c.created_at >= window_start)
            )
        }
    room = settings.max_per_hour - sent_hour
    out: list[Decision] = []
    for row in candidates:
        who = (row.platform, row.author_handle)

        def skip(reason: str, row: Any = row) -> Decision:
            return Decision(row.id, row.platform, row.author_handle, row.route, False, reason)

        if row.incident_id is not None and not settings.incident_members:
            out.append(skip(f"part of incident #{row.incident_id} (auto_ack.incident_members is off)"))
            continue
        if who in recent:
            out.append(
                skip(f"author already got an automatic reply in the last {settings.author_window_hours:g} h")
            )
            continue
        if room <= 0:
            out.append(skip(f"hourly cap of {settings.max_per_hour} automatic replies reached"))
            continue
        try:
            text = workflow.render_reply(config, row, text=None, template=settings.template, actor=ACTOR)
            text, _ = workflow.check_reply(config, row, text)
        except workflow.WorkflowError as exc:
            out.append(skip(str(exc)))
            continue
        out.append(Decision(row.id, row.platform, row.author_handle, row.route, True, text=text))
        recent.add(who)
        room -= 1
    return out


def run(engine: Engine, config: Any, *, now: datetime, dry_run: bool = False) -> list[Decision]:
    """Queue the automatic replies :func:`plan` chose (unless ``dry_run``); returns the decisions."""
    decisions = plan(engine, config, now=now)
    if dry_run:
        return decisions
    done = []
    for d in decisions:
        if not d.send:
            done.append(d)
            continue
        try:
            workflow.request_reply(
                engine,
                config,
                d.mention_id,
                template=config.responder.auto_ack.template,
                actor=ACTOR,
                automatic=True,
                now=now,
            )
        except workflow.WorkflowError as exc:  # answered or claimed meanwhile
            done.append(Decision(d.mention_id, d.platform, d.author, d.route, False, str(exc)))
            continue
        log.info("auto-acknowledge queued for mention %d (@%s on %s)", d.mention_id, d.author, d.platform)
        done.append(d)
    return done
