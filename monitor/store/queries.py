"""Read-side queries managers and agents run: filtered mention lists, source health, counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import desc, func, or_, select
from sqlalchemy.engine import Engine

from monitor.mention import Mention
from monitor.store import models as m

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``"2h"``, ``"30m"``, ``"7d"`` (ago) or an ISO date/time → aware UTC datetime."""
    now = now or datetime.now(UTC)
    match = _SINCE.match(value)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"--since {value!r}: use a duration like 30m, 2h, 7d or a date like 2026-11-01"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass
class MentionFilter:
    platform: str | None = None
    label: str | None = None
    priority: str | None = None
    status: str | None = None
    since: datetime | None = None
    search: str | None = None
    assignee: str | None = None
    limit: int = 50
    offset: int = 0


def find_mentions(engine: Engine, f: MentionFilter) -> list[dict[str, Any]]:
    """Newest first; every stored column of each mention."""
    t = m.Mention.__table__
    q = select(t)
    if f.platform:
        q = q.where(t.c.platform == f.platform)
    if f.label:
        q = q.where(t.c.label == f.label)
    if f.priority:
        q = q.where(t.c.priority == f.priority)
    if f.status:
        q = q.where(t.c.status == f.status)
    if f.assignee:
        q = q.where(t.c.assignee == f.assignee)
    if f.since:
        q = q.where(t.c.created_at >= f.since)
    if f.search:
        like = f"%{f.search.lower()}%"
        q = q.where(or_(func.lower(t.c.text).like(like), func.lower(t.c.author_handle).like(like)))
    q = q.order_by(desc(t.c.created_at), desc(t.c.id)).limit(f.limit).offset(f.offset)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def source_health(engine: Engine) -> list[dict[str, Any]]:
    """Each source's persisted state with its open and recent coverage gaps."""
    cur = m.SourceCursor.__table__
    gaps = m.CoverageGap.__table__
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(cur).order_by(cur.c.source)).mappings()]
        for row in rows:
            row["gaps"] = [
                dict(g)
                for g in conn.execute(
                    select(gaps).where(gaps.c.source == row["source"]).order_by(desc(gaps.c.start)).limit(5)
                ).mappings()
            ]
    return rows


def to_mention(row: dict[str, Any]) -> Mention:
    """A stored mention row back as the normalized :class:`Mention` (to re-triage or reply to it)."""
    return Mention(
        platform=row["platform"],
        external_id=row["external_id"],
        text=row["text"],
        created_at=row["created_at"],
        author_handle=row["author_handle"],
        url=row["url"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        author_followers=row["author_followers"],
        language=row["language"],
        in_reply_to_id=row["in_reply_to_id"],
        conversation_id=row["conversation_id"],
        addressed_to_brand=bool(row["addressed_to_brand"]),
        raw=row["raw"] or {},
    )
