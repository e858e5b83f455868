"""Read side of the dashboard: the filtered inbox (keyset pages, capped counts) and one mention's story.

Built to stay fast at millions of mentions: pages are keyset (``created_at, id``
or ``urgency, created_at, id``; never OFFSET), every filter has an index that
starts with it (migration 0007), per-filter counts are read from ``inbox_count``
(:mod:`monitor.store.inbox_counts`, exact) or, for filters that table does not hold,
sampled and stopped at :data:`COUNT_CAP` ("1000+") instead of counting the whole table,
and a search starts from the full-text index (:func:`resolve_search`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, select, tuple_
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from monitor.store import inbox_counts, queries, tables
from monitor.store import search as fulltext

COUNT_CAP = 1000
OPEN_STATUSES = ("new", "acknowledged")
NOBODY = "-"  # assignee / claimed-by filter value meaning "nobody"

_LIST_COLUMNS = (
    "id",
    "created_at",
    "platform",
    "author_handle",
    "author_name",
    "author_followers",
    "text",
    "url",
    "label",
    "severity",
    "priority",
    "urgency",
    "reasons",
    "status",
    "assignee",
    "claimed_by",
    "version",
    "incident_id",
    "reply_status",
    "polarity",
)
EXPORT_COLUMNS = (
    "id",
    "created_at",
    "platform",
    "external_id",
    "url",
    "author_handle",
    "author_name",
    "author_followers",
    "text",
    "language",
    "label",
    "severity",
    "priority",
    "urgency",
    "polarity",
    "reasons",
    "status",
    "assignee",
    "claimed_by",
    "acknowledged_at",
    "first_response_at",
    "resolved_at",
    "incident_id",
)


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox shows; every field optional. ``status="open"`` means new or acknowledged."""

    platform: str | None = None
    label: str | None = None
    priority: str | None = None
    severity: str | None = None  # a complaint's: severe | moderate | mild
    status: str | None = None
    assignee: str | None = None
    claimed_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    author: str | None = None
    q: str | None = None
    incident: int | None = None
    sort: str = "age"  # age | urgency
    ids: tuple[int, ...] = field(default_factory=tuple)
    # The search ``q`` as (a condition on ``mention``, whether it lists every match's id); set by
    # :func:`resolve_search`, never by users.
    # Third: for counting only, a condition holding the newest SEARCH_FEW matches (None: no shortcut).
    text_match: tuple[Any, bool, Any] | None = field(default=None, compare=False, repr=False)


def _col(name: str) -> Any:
    return tables.mention.c[name]


def _where(query: Select, f: InboxFilter, *, only_index: str | None = None) -> Select:
    """``query`` narrowed by ``f``; ``only_index`` names the one text column an index may serve.

    With ``only_index``, the other text columns are compared as ``col || ''``, which no index
    serves, so the database walks that column's index (a count per filter value must not walk
    another filter's index through most of the table looking for a rare value).
    """
    t = tables.mention
    if only_index is None and f.q and f.text_match is not None and f.text_match[1]:
        # The search's matches are a list of ids (a rare word, or a common word's newest ones):
        # read those rows by id. An index on another filter would walk all of that filter's rows
        # testing each against the list (label=complaint: 370,000 rows, 50-60 ms at 1M on SQLite).
        only_index = "id"

    def c(name: str) -> Any:
        col = t.c[name]
        return col if only_index is None or name == only_index else col.concat("")

    if f.platform:
        query = query.where(c("platform") == f.platform)
    if f.label:
        query = query.where(c("label").is_(None) if f.label == "unscored" else c("label") == f.label)
    if f.priority:
        query = query.where(c("priority") == f.priority)
    if f.severity:
        query = query.where(c("severity") == f.severity)
    if f.status == "open":
        query = query.where(c("status").in_(OPEN_STATUSES))
    elif f.status:
        query = query.where(c("status") == f.status)
    for name in ("assignee", "claimed_by"):
        value = getattr(f, name)
        if value == NOBODY:
            query = query.where(c(name).is_(None))
        elif value:
            query = query.where(c(name) == value)
    if f.since:
        query = query.where(t.c.created_at >= f.since)
    if f.until:
        query = query.where(t.c.created_at < f.until)
    if f.author:
        query = query.where(c("author_handle") == f.author.lstrip("@"))
    if f.incident is not None:
        query = query.where(t.c.incident_id == f.incident)
    if f.q:
        if f.text_match is None:
            raise ValueError("a search must go through resolve_search() first")
        query = query.where(f.text_match[0])
    return query


SEARCH_FEW = 5000  # a search with at most this many matches is answered from their ids


def resolve_search(conn: Any, f: InboxFilter) -> InboxFilter:
    """``f`` with its search ``q`` turned into a condition (the project's full-text search,
    :mod:`monitor.store.search`: words, "phrases", prefix*).

    A word with few matches (at most :data:`SEARCH_FEW`; PostgreSQL: ``PG_WINDOW``) becomes the
    list of their ids, read from the full-text index alone, so every other filter, sort and count
    works on a few rows instead of testing the text of every mention (a word no post has took
    2.6 s at 1M). A common word stays a full-text condition, tested on the newest rows first.
    """
    if not f.q or f.text_match is not None:
        return f
    t = tables.mention
    dialect = conn.dialect.name
    terms = fulltext.parse_query(f.q)
    ids: list[int] | None = None
    sample = None
    if not terms:
        ids = []
    elif dialect == "sqlite":
        # How many match, up to SEARCH_FEW + 1 (FTS5 counts from its index alone). The matches stay
        # a subquery the database reads itself, never a list of thousands of bound ids.
        n = conn.execute(
            sql_text(
                f"SELECT count(*) FROM (SELECT rowid FROM {fulltext.FTS_TABLE} "
                f"WHERE {fulltext.FTS_TABLE} MATCH :q LIMIT :n)"
            ),
            {"q": fulltext.fts5_query(terms), "n": SEARCH_FEW + 1},
        ).scalar()
        if n == 0:
            ids = []  # an empty IN: no read at all
        elif n <= SEARCH_FEW:
            return replace(f, text_match=(t.c.id.in_(fulltext.fts_rowids(f.q)), True, None))
        else:
            sample = t.c.id.in_(fulltext.fts_rowids(f.q, newest=SEARCH_FEW))
    elif dialect == "postgresql":
        # Wanting more than its newest-rows scan holds: every match through the GIN index, if few.
        ids = fulltext.postgres_candidates(conn, select(t.c.id), f.q, fulltext.PG_SCAN + 1)
    if ids is not None:
        return replace(f, text_match=(t.c.id.in_(ids), True, None))
    return replace(f, text_match=(fulltext.search_clause(dialect, f.q), False, sample))


def with_search(engine: Engine, f: InboxFilter) -> InboxFilter:
    """``f`` with its search resolved (once per request: every read below reuses it)."""
    if not f.q or f.text_match is not None:
        return f
    with engine.connect() as conn:
        return resolve_search(conn, f)


# -- keyset cursors: opaque to the browser, validated on the way back


def encode_cursor(row: dict[str, Any], sort: str) -> str:
    key = [row["created_at"].isoformat(), row["id"]]
    if sort == "urgency":
        key.insert(0, row["urgency"])
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(value: str, sort: str) -> list[Any]:
    """The cursor's key; ValueError when it was tampered with or belongs to the other sort."""
    try:
        key = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        if not isinstance(key, list) or len(key) != (3 if sort == "urgency" else 2):
            raise ValueError
        key[-2] = datetime.fromisoformat(key[-2])
        if not isinstance(key[-1], int) or (sort == "urgency" and not isinstance(key[0], (int, type(None)))):
            raise ValueError
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValueError("this page link is damaged; start again from the first page") from None
    return key


def inbox_page(
    engine: Engine, f: InboxFilter, *, after: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of mentions and the cursor of the next page (None at the end)."""
    t = tables.mention
    cols = [_col(c) for c in _LIST_COLUMNS]
    created, ident, urgency = t.c.created_at, t.c.id, t.c.urgency
    rows: list[dict[str, Any]] = []
    counted = exact_counts(engine, f)
    if counted is not None and counted[0].n == 0:
        # Nothing matches (the count table is exact): no walk of an index for rows that are not
        # there (severity=severe on a store without severities read all 1M rows: 0.8-1 s).
        return [], None
    f = with_search(engine, f)
    with engine.connect() as conn:
        if f.sort == "urgency":
            # Scored mentions by urgency first, then the unscored tail; each part walks an index.
            key = decode_cursor(after, "urgency") if after else None
            total = total_count(engine, f)
            if (total.exact and total.n <= URGENCY_SORT_AT) or (f.text_match and f.text_match[1]):
                # Few matches: their sort keys through the filters' own indexes, sorted here. (Left
                # to the planner, a walk of the urgency or time index skipping almost every row can
                # be chosen instead: 4-6 s at 1M for 14 matches on PostgreSQL.)
                rows = _few_by_urgency(conn, f, cols, key, limit + 1)
                more = len(rows) > limit
                rows = rows[:limit]
                return rows, (encode_cursor(rows[-1], f.sort) if more and rows else None)
            # Many matches: walk the urgency index and filter as we go (sorting them all would
            # cost more).
            # SQLite (no planner statistics) is kept off the filters' indexes; PostgreSQL gets the
            # plain filters: hidden behind ``col || ''`` they were estimated to match almost no row,
            # so it scanned and sorted the whole table (complaints + open by urgency: 650 ms).
            # With a label, its rows are walked in urgency order (ix_mention_label_urgency, 0017).
            broad = ("label" if f.label else "urgency") if conn.dialect.name == "sqlite" else None
            if f.text_match and not f.text_match[1] and conn.dialect.name == "sqlite":
                # A common word: its matches are tested along the walk, not read by id and sorted.
                matched = fulltext.search_clause("sqlite", f.q or "", by_id=False)
                f = replace(f, text_match=(matched, False, f.text_match[2]))
            if key is None or key[0] is not None:
                q = _where(select(*cols), f, only_index=broad).where(urgency.is_not(None))
                if key is not None:
                    q = q.where(tuple_(urgency, created, ident) < tuple_(literal(key[0]), key[1], key[2]))
                q = q.order_by(urgency.desc(), created.desc(), ident.desc()).limit(limit + 1)
                rows = [dict(r) for r in conn.execute(q).mappings()]
            if len(rows) <= limit:
                q = _where(select(*cols), f).where(urgency.is_(None))
                if key is not None and key[0] is None:
                    q = q.where(tuple_(created, ident) < tuple_(key[1], key[2]))
                q = q.order_by(created.desc(), ident.desc()).limit(limit + 1 - len(rows))
                rows += [dict(r) for r in conn.execute(q).mappings()]
        else:
            keyset = []
            if after:
                key = decode_cursor(after, "age")
                keyset = [tuple_(created, ident) < tuple_(key[0], key[1])]
            if f.text_match and not f.text_match[1] and conn.dialect.name in ("sqlite", "postgresql"):
                # A common word: ids that surely hold the page (newest matches; see monitor.store.search).
                others = _where(select(ident), replace(f, q=None)).where(*keyset)
                if conn.dialect.name == "sqlite":
                    # The matches are read by id (no other filter's index; see sqlite_candidates).
                    by_id = _where(select(ident), replace(f, q=None), only_index="id").where(*keyset)
                    found = fulltext.sqlite_candidates(conn, others, f.q or "", limit + 1, by_id=by_id)
                else:
                    found = fulltext.postgres_candidates(conn, others, f.q or "", limit + 1)
                if found is not None:
                    f = replace(f, text_match=(ident.in_(found), True, None))
            q = _where(select(*cols), f).where(*keyset)
            q = q.order_by(created.desc(), ident.desc()).limit(limit + 1)
            rows = [dict(r) for r in conn.execute(q).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1], f.sort) if more and rows else None)


URGENCY_SORT_AT = 10_000  # up to this many matches, "most urgent first" sorts them (else walks the index)


def _urgency_key(urgency: int | None, created: datetime, ident: int) -> tuple[Any, ...]:
    """Sort key of "most urgent first": scored by urgency, then the unscored; newest first within."""
    return (urgency is not None, urgency or 0, created, ident)


def _few_by_urgency(
    conn: Any, f: InboxFilter, cols: list[Any], key: list[Any] | None, want: int
) -> list[dict[str, Any]]:
    """The ``want`` most urgent matches after the cursor ``key``, for a filter with few matches."""
    t = tables.mention
    found = conn.execute(_where(select(t.c.id, t.c.urgency, t.c.created_at), f)).all()
    ranked = sorted((_urgency_key(u, c, i) for i, u, c in found), reverse=True)
    if key is not None:
        bound = _urgency_key(key[0], key[1], key[2])
        ranked = [k for k in ranked if k < bound]
    ids = [k[3] for k in ranked[:want]]
    rows = [dict(r) for r in conn.execute(select(*cols).where(t.c.id.in_(ids))).mappings()]
    return sorted(rows, key=lambda r: _urgency_key(r["urgency"], r["created_at"], r["id"]), reverse=True)


def newer_than(engine: Engine, f: InboxFilter, after_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """Mentions stored after ``after_id`` that match ``f`` (newest first): the live-update poll."""
    t = tables.mention
    f = with_search(engine, f)
    q = _where(select(*[_col(c) for c in _LIST_COLUMNS]), replace(f, sort="age"))
    q = q.where(t.c.id > after_id).order_by(t.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def newest_id(engine: Engine) -> int:
    """The highest mention id (the primary key's last entry): where live updates start from."""
    t = tables.mention
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(t.c.id))).scalar() or 0)


def capped_count(
    engine: Engine, f: InboxFilter, cap: int = COUNT_CAP, *, only_index: str | None = None
) -> int:
    """How many match, counting at most ``cap + 1`` rows (shown as "1000+")."""
    f = with_search(engine, f)
    query = select(literal(1).label("one")).select_from(tables.mention)
    inner = _where(query, f, only_index=only_index).limit(cap + 1).subquery()
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inner)).scalar() or 0)


def _only_counted_columns(f: InboxFilter) -> bool:
    """True when every filter set in ``f`` is a column of ``inbox_count`` (exact counts from there)."""
    default = InboxFilter()
    return all(
        getattr(f, name) == getattr(default, name)
        for name in f.__dataclass_fields__
        if name not in inbox_counts.DIMS and name != "sort"
    )


def _accepts(name: str, value: str) -> tuple[Any, ...]:
    """The stored values of column ``name`` that the filter value ``value`` selects."""
    if name == "status" and value == "open":
        return OPEN_STATUSES
    if (name == "label" and value == "unscored") or (name in ("assignee", "claimed_by") and value == NOBODY):
        return (None,)
    if name == "author":
        return (value.lstrip("@"),)
    return (value,)


def exact_counts(engine: Engine, f: InboxFilter) -> tuple[Count, dict[str, dict[str, int]]] | None:
    """From ``inbox_count``: the total of ``f`` and, per facet column, the count of each stored value
    with the other filters kept. None when ``f`` filters on something that table does not hold."""
    if not _only_counted_columns(f):
        return None
    dims = inbox_counts.DIMS
    wanted = {d: _accepts(d, getattr(f, d)) for d in dims if getattr(f, d)}
    total = 0
    per: dict[str, dict[Any, int]] = {d: {} for d in dims}
    for row in _combinations(engine):
        misses = [d for i, d in enumerate(dims) if d in wanted and row[i] not in wanted[d]]
        if len(misses) > 1:
            continue
        n = row[-1]
        if not misses:
            total += n
        for i, d in enumerate(dims):
            if not misses or misses == [d]:  # matches every filter but (maybe) this column's own
                per[d][row[i]] = per[d].get(row[i], 0) + n
    return Count(total), per


_ONE_READ: ContextVar[dict[Engine, list[tuple[Any, ...]]] | None] = ContextVar("inbox_one_read", default=None)


@contextmanager
def one_count_read() -> Iterator[None]:
    """Within it, ``inbox_count`` is read once: a page view's list, facet counts and total share
    that read (each read sums the table and its delta log: ~10 ms at 1M, four times a view)."""
    token = _ONE_READ.set({})
    try:
        yield
    finally:
        _ONE_READ.reset(token)


def _combinations(engine: Engine) -> list[tuple[Any, ...]]:
    memo = _ONE_READ.get()
    if memo is None:
        return inbox_counts.combinations(engine)
    if engine not in memo:
        memo[engine] = inbox_counts.combinations(engine)
    return memo[engine]


def total_count(engine: Engine, f: InboxFilter) -> Count:
    """How many mentions ``f`` shows: exact from ``inbox_count`` when it can be, else capped ("1000+")."""
    exact = exact_counts(engine, f)
    if exact is not None:
        return exact[0]
    f = with_search(engine, f)
    if f.text_match and f.text_match[2] is not None:  # a common word: counted among its newest matches
        n = capped_count(engine, replace(f, text_match=(f.text_match[2], True, None)))
        return Count(min(n, COUNT_CAP), False)
    n = capped_count(engine, f)
    return Count(min(n, COUNT_CAP), n <= COUNT_CAP)


FACETS: dict[str, tuple[str, ...]] = {
    "status": ("open", "new", "acknowledged", "replied", "resolved", "ignored"),
    "priority": ("P1", "P2", "P3"),
    "label": ("complaint", "question", "praise", "neutral", "spam"),
}


@dataclass(frozen=True)
class Count:
    """A filter value's count; ``exact`` False means "at least ``n``" (shown as ``n+``)."""

    n: int
    exact: bool = True


FACET_SAMPLE = 500  # the newest matches read once to count every facet's values
FACET_CAP = 50  # per-value counts beyond that sample stop here ("50+")
_FACET_COLUMNS = ("status", "priority", "label", "platform")


def _sample(engine: Engine, f: InboxFilter, cap: int) -> tuple[dict[str, dict[str, int]], bool]:
    """Counts per value of every facet column over the newest ``cap + 1`` matches; whether that was all."""
    t = tables.mention
    f = with_search(engine, f)
    query = _where(select(*[t.c[c] for c in _FACET_COLUMNS]), f).limit(cap + 1)
    counts: dict[str, dict[str, int]] = {c: {} for c in _FACET_COLUMNS}
    n = 0
    with engine.connect() as conn:
        for row in conn.execute(query):
            n += 1
            for column, value in zip(_FACET_COLUMNS, row, strict=True):
                if value is not None:
                    counts[column][value] = counts[column].get(value, 0) + 1
    status = counts["status"]
    status["open"] = sum(status.get(s, 0) for s in OPEN_STATUSES)
    return counts, n <= cap


def facet_counts(
    engine: Engine, f: InboxFilter, platforms: list[str], cap: int = COUNT_CAP
) -> dict[str, dict[str, Count]]:
    """For each filter value: how many mentions it would show with the other filters kept.

    Exact, from ``inbox_count`` (:mod:`monitor.store.inbox_counts`), when ``f`` filters only on
    platform, label, priority, severity, status, assignee and claimer. Otherwise (dates, author, search,
    incident) sampled:
    The newest ``cap`` (at most :data:`FACET_SAMPLE`) matches are read once (once more per
    facet that is itself filtered) and counted per value: exact when that was all of them.
    Beyond that, a value seen :data:`FACET_CAP` times is shown as "50+", and a rarer one is
    counted along its own index up to that cap (skipped for a text search, whose every count
    would read the texts again: those counts are lower bounds, "n+").
    """
    exact = exact_counts(engine, f)
    f = with_search(engine, f)  # once for every count below
    partial = bool(f.text_match and f.text_match[2] is not None)
    if partial:  # a common word: count among its newest SEARCH_FEW matches (lower bounds, "n+")
        f = replace(f, text_match=(f.text_match[2], True, None))
    cap = min(cap, FACET_SAMPLE)
    # Without the other filters (dates, author, …) the table still bounds each count from above:
    # a value that no mention has together with the counted filters needs no walk (0, exact).
    bound = (
        exact[1]
        if exact
        else exact_counts(engine, InboxFilter(**{d: getattr(f, d) for d in inbox_counts.DIMS}))[1]
    )
    shared: tuple[dict[str, dict[str, int]], bool] | None = None
    out: dict[str, dict[str, Count]] = {}
    for name, values in (*FACETS.items(), ("platform", tuple(platforms))):
        if exact is not None and name in exact[1]:
            per = exact[1][name]
            out[name] = {v: Count(sum(per.get(s, 0) for s in _accepts(name, v))) for v in values}
            continue
        if getattr(f, name):
            counts, complete = _sample(engine, replace(f, **{name: None}), cap)
        else:
            shared = shared or _sample(engine, f, cap)
            counts, complete = shared
        seen = counts[name]
        if complete:
            out[name] = {v: Count(seen.get(v, 0), not partial) for v in values}
            continue
        out[name] = {}
        for value in values:
            n = seen.get(value, 0)
            if (
                n < FACET_CAP
                and not f.q
                and name in bound
                and not any(bound[name].get(s) for s in _accepts(name, value))
            ):
                n = 0
            elif n < FACET_CAP and not f.q:
                n = capped_count(engine, replace(f, **{name: value}), FACET_CAP, only_index=name)
            out[name][value] = Count(min(n, FACET_CAP), n < FACET_CAP and not f.q)
    return out


def platforms_seen(engine: Engine) -> list[str]:
    """Platforms that have sources (cheap: the cursor table, not a scan of mentions)."""
    cur = tables.source_cursor
    with engine.connect() as conn:
        found = {r[0] for r in conn.execute(select(cur.c.platform).distinct())}
    return sorted(found)


def people(engine: Engine, column: str, limit: int = 50) -> list[str]:
    """Recent assignees or claimers, for the filter's suggestions (from the audit log, indexed by time)."""
    ev = tables.event
    action = {"assignee": "assign", "claimed_by": "claim"}[column]
    q = select(ev.c.actor, ev.c.detail).where(ev.c.action == action).order_by(ev.c.at.desc()).limit(500)
    seen: list[str] = []
    with engine.connect() as conn:
        for actor, detail in conn.execute(q):
            name = (detail or {}).get("after") if action == "assign" else actor
            if name and name not in seen:
                seen.append(name)
            if len(seen) >= limit:
                break
    return seen


EXPORT_BATCH = 2000
EXPORT_FIRST = 500  # the first batch (one CSV chunk): the download starts after 500 rows, not 2,000


def export_rows(engine: Engine, f: InboxFilter, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Every export column of the filtered list (all of it, or ``limit`` rows), newest first.

    Streamed in keyset batches of :data:`EXPORT_BATCH` (the first of :data:`EXPORT_FIRST`): each
    is one short indexed read on its own connection, so memory stays constant, the first rows
    come at once, and a download of a million rows holds no connection or snapshot while the
    client reads.
    """
    key: tuple[Any, int] | None = None
    sent = 0
    t = tables.mention
    cols = [t.c[c] for c in EXPORT_COLUMNS]
    base = _where(select(*cols), replace(with_search(engine, f), sort="age")).order_by(
        t.c.created_at.desc(), t.c.id.desc()
    )
    while limit is None or sent < limit:
        q = base if key is None else base.where(tuple_(t.c.created_at, t.c.id) < tuple_(*key))
        size = EXPORT_BATCH if sent else min(EXPORT_FIRST, EXPORT_BATCH)
        q = q.limit(size if limit is None else min(size, limit - sent))
        with engine.connect() as conn:
            batch = [dict(r) for r in conn.execute(q).mappings()]
        if not batch:
            return
        yield from batch
        sent += len(batch)
        key = (batch[-1]["created_at"], batch[-1]["id"])


# -- one mention's story


def mention_story(
    engine: Engine, mention_id: int, *, around: int = 5, author_window_minutes: float = 30
) -> dict[str, Any] | None:
    """The mention with its author, conversation, alerts and their deliveries, replies, notes and
    audit; with no alert of its own, the same author's alert it was folded into (if any)."""
    t = tables.mention
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == mention_id)).mappings().first()
        if row is None:
            return None
        mention = dict(row)
        au = tables.author
        author = (
            conn.execute(
                select(au).where(
                    au.c.platform == mention["platform"], au.c.handle == mention["author_handle"]
                )
            )
            .mappings()
            .first()
        )
        brief = [t.c[c] for c in ("id", "created_at", "text", "label", "priority", "status", "author_handle")]
        same_author = and_(t.c.platform == mention["platform"], t.c.author_handle == mention["author_handle"])
        earlier = (
            conn.execute(
                select(*brief)
                .where(
                    same_author, tuple_(t.c.created_at, t.c.id) < tuple_(mention["created_at"], mention_id)
                )
                .order_by(t.c.created_at.desc(), t.c.id.desc())
                .limit(around)
            )
            .mappings()
            .all()
        )
        later = (
            conn.execute(
                select(*brief)
                .where(
                    same_author, tuple_(t.c.created_at, t.c.id) > tuple_(mention["created_at"], mention_id)
                )
                .order_by(t.c.created_at, t.c.id)
                .limit(around)
            )
            .mappings()
            .all()
        )
        thread: list[dict[str, Any]] = []
        if mention["conversation_id"]:
            thread = [
                dict(r)
                for r in conn.execute(
                    select(*brief)
                    .where(
                        t.c.platform == mention["platform"],
                        t.c.conversation_id == mention["conversation_id"],
                        t.c.id != mention_id,
                    )
                    .order_by(t.c.created_at, t.c.id)
                    .limit(30)
                ).mappings()
            ]
        ao, ad = tables.alert_outbox, tables.alert_delivery
        alerts = [
            dict(r)
            for r in conn.execute(
                select(
                    ao.c.id.label("alert_id"),
                    ao.c.route,
                    ao.c.kind,
                    ao.c.created_at,
                    ad.c.destination_label,
                    ad.c.destination,
                    ad.c.status,
                    ad.c.attempts,
                    ad.c.delivered_at,
                    ad.c.last_error,
                )
                .select_from(ao.outerjoin(ad, ad.c.alert_id == ao.c.id))
                .where(ao.c.mention_id == mention_id)
                .order_by(ao.c.id, ad.c.id)
                .limit(100)
            ).mappings()
        ]
        rt = tables.reply_outbox
        replies = [
            dict(r)
            for r in conn.execute(
                select(rt).where(rt.c.mention_id == mention_id).order_by(rt.c.id.desc()).limit(50)
            ).mappings()
        ]
        ev = tables.event
        events = [
            dict(r)
            for r in conn.execute(
                select(ev).where(ev.c.mention_id == mention_id).order_by(ev.c.at, ev.c.id).limit(500)
            ).mappings()
        ]
        folded_into = None
        if not alerts and mention["incident_id"] is None:
            folded_into = queries.earlier_author_alert(conn, mention, author_window_minutes)
        incident = None
        if mention["incident_id"] is not None:
            it = tables.incident
            found = conn.execute(select(it).where(it.c.id == mention["incident_id"])).mappings().first()
            incident = dict(found) if found else None
    return {
        "mention": mention,
        "author": dict(author) if author else None,
        "earlier": [dict(r) for r in reversed(earlier)],
        "later": [dict(r) for r in later],
        "thread": thread,
        "alerts": alerts,
        "folded_into": folded_into,
        "replies": replies,
        "notes": [e for e in events if e["action"] == "note"],
        "events": [e for e in events if e["action"] != "note"],
        "incident": incident,
    }


# -- incidents


def incidents_page(
    engine: Engine, *, status: str | None = None, before: int | None = None, limit: int = 30
) -> tuple[list[dict[str, Any]], int | None]:
    """Incidents newest first (keyset on id) and the id to continue before (None at the end)."""
    it = tables.incident
    q = select(it)
    if status:
        q = q.where(it.c.status == status)
    if before is not None:
        q = q.where(it.c.id < before)
    q = q.order_by(it.c.id.desc()).limit(limit + 1)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["id"] if more and rows else None)


def incident_story(engine: Engine, incident_id: int, *, members: int = 200) -> dict[str, Any] | None:
    """An incident with its timeline (detected → acknowledged → first public reply → resolved) and members."""
    it, t, rt = tables.incident, tables.mention, tables.reply_outbox
    with engine.connect() as conn:
        found = conn.execute(select(it).where(it.c.id == incident_id)).mappings().first()
        if found is None:
            return None
        incident = dict(found)
        agg = conn.execute(
            select(
                func.count(),
                func.min(t.c.acknowledged_at),
                func.min(t.c.first_response_at),
                func.max(t.c.resolved_at),
                func.sum(case((t.c.status.in_(OPEN_STATUSES), 1), else_=0)),
            ).where(t.c.incident_id == incident_id)
        ).first()
        total, first_ack, first_reply, last_resolved, still_open = agg
        sent = conn.execute(
            select(func.min(rt.c.sent_at))
            .select_from(rt.join(t, t.c.id == rt.c.mention_id))
            .where(t.c.incident_id == incident_id, rt.c.status == "sent")
        ).scalar()
        rows = [
            dict(r)
            for r in conn.execute(
                select(*[_col(c) for c in _LIST_COLUMNS])
                .where(t.c.incident_id == incident_id)
                .order_by(t.c.created_at.desc(), t.c.id.desc())
                .limit(members)
            ).mappings()
        ]
    replied = min((x for x in (first_reply, sent) if x is not None), default=None)
    resolved = incident["resolved_at"] or (last_resolved if total and not still_open else None)
    timeline = [
        ("Detected", incident["opened_at"]),
        ("Acknowledged", incident["acknowledged_at"] or first_ack),
        ("First public reply", replied),
        ("Resolved", resolved),
    ]
    return {
        "incident": incident,
        "timeline": timeline,
        "members": rows,
        "total": int(total or 0),
        "open": int(still_open or 0),
    }
