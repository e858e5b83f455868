"""Read-side queries managers and agents run: filtered mention lists, source health, counts."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.engine import Connection, Engine

from monitor.mention import Mention
from monitor.store import tables
from monitor.store.search import postgres_candidates, search_clause, sqlite_candidates

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


_WHERE_KEYS = ("platform", "label", "priority", "severity", "status", "assignee", "since", "search")


def parse_where(text: str, now: datetime | None = None) -> MentionFilter:
    """``--where 'label=spam since=7d search="free prize"'`` → a :class:`MentionFilter` (no limit).

    The keys are ``mentions``' filters; values with spaces are quoted as in a shell. Raises
    ValueError naming the bad part.
    """
    import shlex

    try:
        parts = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"--where {text!r}: {exc} (quote values with spaces: search='free prize')") from None
    values: dict[str, Any] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in _WHERE_KEYS or not value:
            raise ValueError(
                f"--where: {part!r} is not KEY=VALUE with KEY one of {', '.join(_WHERE_KEYS)} "
                "(e.g. --where 'label=spam since=7d')"
            )
        values[key] = value
    if not values:
        raise ValueError("--where: give at least one filter, e.g. --where 'label=spam since=7d'")
    from monitor.triage.model import LABELS, SEVERITIES

    allowed = {
        "label": LABELS,
        "status": tables.MENTION_STATUSES,
        "priority": ("P1", "P2", "P3"),
        "severity": SEVERITIES,
    }
    for key, choices in allowed.items():
        if key in values and values[key] not in choices:
            raise ValueError(f"--where: {key}={values[key]!r} is not one of {', '.join(choices)}")
    if "since" in values:
        values["since"] = parse_since(values["since"], now)
    return MentionFilter(**values)


@dataclass
class MentionFilter:
    platform: str | None = None
    label: str | None = None
    priority: str | None = None
    severity: str | None = None  # a complaint's: severe | moderate | mild
    status: str | None = None
    since: datetime | None = None
    search: str | None = None
    assignee: str | None = None
    limit: int = 50
    offset: int = 0


def find_mentions(engine: Engine, f: MentionFilter) -> list[dict[str, Any]]:
    """Newest first; every stored column of each mention."""
    t = tables.mention
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if f.search and dialect == "sqlite":
            # A common word: rank a bounded window of the index's newest matches (exact; see there).
            others = replace(f, search=None)
            ids = sqlite_candidates(
                conn,
                _filtered(select(t.c.id), others, dialect),
                f.search,
                f.limit + f.offset,
                by_id=_filtered(select(t.c.id), others, dialect, indexed=False),
            )
            if ids == []:
                return []
            if ids is not None:
                f, dialect = others, ""
        elif f.search and dialect == "postgresql":
            # The newest rows' stored tsvectors, else a rare word's few matches through GIN (see there).
            others = replace(f, search=None)
            ids = postgres_candidates(
                conn, _filtered(select(t.c.id), others, dialect), f.search, f.limit + f.offset
            )
            if ids == []:
                return []
            if ids is not None:
                f, dialect = others, ""
        q = _filtered(select(t), f, dialect)
        if not dialect:
            q = q.where(t.c.id.in_(ids))
        q = q.order_by(desc(t.c.created_at), desc(t.c.id)).limit(f.limit).offset(f.offset)
        return [dict(r) for r in conn.execute(q).mappings()]


def mention_ids(engine: Engine, f: MentionFilter) -> list[int]:
    """The ids of every mention matching ``f`` (no limit), oldest first: what a bulk action acts on."""
    t = tables.mention
    q = _filtered(select(t.c.id), f, engine.dialect.name).order_by(t.c.id)
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def _filtered(q: Any, f: MentionFilter, dialect: str, *, indexed: bool = True) -> Any:
    """``q`` restricted to the mentions ``f`` asks for (the same filters for lists and bulk actions).

    ``indexed=False`` compares the text columns as ``col || ''``, which no index serves: for reading
    a search's matches by id (see :func:`~monitor.store.search.sqlite_candidates`).
    """
    t = tables.mention

    def c(name: str) -> Any:
        return t.c[name] if indexed else t.c[name].concat("")

    if f.platform:
        q = q.where(c("platform") == f.platform)
    if f.label:
        q = q.where(c("label") == f.label)
    if f.priority:
        q = q.where(c("priority") == f.priority)
    if f.severity:
        q = q.where(c("severity") == f.severity)
    if f.status:
        q = q.where(c("status") == f.status)
    if f.assignee:
        q = q.where(c("assignee") == f.assignee)
    if f.since:
        q = q.where(t.c.created_at >= f.since)
    if f.search:
        # Full-text (FTS5 / tsvector GIN), not LIKE '%…%': see monitor.store.search for the syntax.
        q = q.where(search_clause(dialect, f.search))
    return q


def source_health(engine: Engine) -> list[dict[str, Any]]:
    """Each source's persisted state with its open and recent coverage gaps."""
    cur = tables.source_cursor
    gaps = tables.coverage_gap
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


def earlier_author_alert(conn: Connection, mention: Any, window_minutes: float) -> dict[str, Any] | None:
    """The same author's alert within ``alerts.author_window_minutes`` before ``mention`` was stored:
    why a mention with no alert of its own was folded (one alert per author per window)."""
    out_t = tables.alert_outbox
    seen_at = mention["fetched_at"] or mention["created_at"]
    if seen_at is None:
        return None
    earlier = (
        conn.execute(
            select(out_t.c.id.label("alert_id"), out_t.c.mention_id, out_t.c.created_at)
            .where(
                out_t.c.kind == "mention",
                out_t.c.platform == mention["platform"],
                out_t.c.author_handle == mention["author_handle"],
                out_t.c.created_at <= seen_at,
                out_t.c.created_at >= seen_at - timedelta(minutes=window_minutes),
            )
            .order_by(desc(out_t.c.created_at))
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(earlier) if earlier else None


def mention_detail(
    engine: Engine, mention_id: int, *, author_window_minutes: float = 30
) -> dict[str, Any] | None:
    """One mention with everything that happened to it, for ``show``: its alert deliveries,
    audit events, label corrections and replies, each oldest first. None if no such mention."""
    t = tables.mention
    out_t, d = tables.alert_outbox, tables.alert_delivery
    ev, corr, rep = tables.event, tables.label_correction, tables.reply_outbox
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == mention_id)).mappings().first()
        if row is None:
            return None
        detail: dict[str, Any] = {"mention": dict(row)}
        detail["deliveries"] = [
            dict(r)
            for r in conn.execute(
                select(
                    out_t.c.id.label("alert_id"),
                    out_t.c.route,
                    out_t.c.kind,
                    out_t.c.created_at,
                    d.c.destination_label,
                    d.c.status,
                    d.c.attempts,
                    d.c.delivered_at,
                    d.c.last_error,
                )
                .select_from(out_t.outerjoin(d, d.c.alert_id == out_t.c.id))
                .where(out_t.c.mention_id == mention_id)
                .order_by(out_t.c.id, d.c.id)
            ).mappings()
        ]
        for key, table in (("events", ev), ("corrections", corr), ("replies", rep)):
            found = conn.execute(select(table).where(table.c.mention_id == mention_id).order_by(table.c.id))
            detail[key] = [dict(r) for r in found.mappings()]
        detail["earlier_author_alert"] = (
            None if detail["deliveries"] else earlier_author_alert(conn, row, author_window_minutes)
        )
    return detail
