"""Free-text search over mentions (text and author): SQLite FTS5, PostgreSQL full-text search.

One query language for the CLI's ``mentions --search`` and the dashboard's inbox search:
words (all must match, stemmed: ``refunds`` finds ``refund``), ``"quoted phrases"`` (adjacent
words in order) and ``word*`` (prefix). Anything else in the query (operators, quotes left
open, brackets, ``@``/``#``, ``_``) separates words and is never passed to the database's query
syntax, so no query can raise a syntax error. A query with no words matches nothing.

SQLite: an external-content FTS5 table ``mention_fts`` (porter stemmer over unicode61, accents
folded) kept in step with ``mention`` by triggers (migration 0006). PostgreSQL: the ``english``
tsvector of the same two columns, stored in the generated column ``mention.search_vector`` with
a GIN index on it (migration 0013; 0006 indexed the expression, so every row the planner
tested outside the index parsed its text again: 150-320 ms for a common word at 1M). The column
is not in the models: the database computes it, and no query but the search reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

FTS_TABLE = "mention_fts"
PG_DOCUMENT = "to_tsvector('english'::regconfig, mention.text || ' ' || mention.author_handle)"
PG_INDEX = "ix_mention_fulltext"  # migration 0006's expression index (0013 replaces it)
PG_VECTOR_COLUMN = "search_vector"
PG_VECTOR_INDEX = "ix_mention_search_vector"
PG_ADD_VECTOR = (
    f"ALTER TABLE mention ADD COLUMN IF NOT EXISTS {PG_VECTOR_COLUMN} tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text || ' ' || author_handle)) STORED"
)
PG_CREATE_VECTOR_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {PG_VECTOR_INDEX} ON mention USING gin ({PG_VECTOR_COLUMN})"
)

# DDL for SQLite, each statement idempotent: the migration runs it, and migrate() runs the
# triggers again after any upgrade (a later batch ALTER of ``mention`` rebuilds the table and
# drops its triggers).
SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "text, author_handle, content='mention', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')"
)
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON mention BEGIN
  INSERT INTO {FTS_TABLE}(rowid, text, author_handle) VALUES (new.id, new.text, new.author_handle);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON mention BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, author_handle)
  VALUES ('delete', old.id, old.text, old.author_handle);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF text, author_handle ON mention BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, author_handle)
  VALUES ('delete', old.id, old.text, old.author_handle);
  INSERT INTO {FTS_TABLE}(rowid, text, author_handle) VALUES (new.id, new.text, new.author_handle);
END""",
)
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
PG_CREATE_INDEX = f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON mention USING gin (({PG_DOCUMENT}))"

_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Term:
    """One thing the query asks for: a word, or a phrase (several words); ``prefix`` on the last."""

    words: tuple[str, ...]
    prefix: bool = False


def parse_query(query: str) -> list[Term]:
    """Split a user's query into terms; characters other than letters and digits only separate."""
    terms = []
    for match in _TERM.finditer(query):
        phrase, bare = match.group(1), match.group(2)
        raw = phrase if phrase is not None else bare
        words = tuple(w.lower() for w in _WORD.findall(raw))
        if words:
            terms.append(Term(words, prefix=phrase is None and raw.endswith("*")))
    return terms


def fts5_query(terms: list[Term]) -> str:
    """The FTS5 MATCH string: every term a quoted phrase (so no word is read as an operator)."""
    return " ".join(f'"{" ".join(t.words)}"' + ("*" if t.prefix else "") for t in terms)


def search_clause(dialect: str, query: str, *, by_id: bool = True) -> Any:
    """A WHERE clause on the ``mention`` table for ``query`` (see the module docstring).

    SQLite, ``by_id=False``: the matches are a set tested against rows read along another index
    (``id + 0 IN (…)``), never the rows to read by id (a common word sorted by urgency walks
    the urgency index for its first page instead of reading and sorting 62,730 matches).
    """
    from sqlalchemy import false, func, literal_column, or_, text
    from sqlalchemy.sql import column

    from monitor.store import tables

    t = tables.mention
    terms = parse_query(query)
    if not terms:
        return false()
    if dialect == "sqlite":
        matching = (
            text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts")
            .bindparams(fts=fts5_query(terms))
            .columns(column("rowid"))
        )
        return t.c.id.in_(matching) if by_id else (t.c.id + 0).in_(matching)
    if dialect == "postgresql":
        return pg_match(literal_column(f"mention.{PG_VECTOR_COLUMN}"), terms)
    like = f"%{query.lower()}%"  # another database: a plain scan, same meaning for single words
    return or_(func.lower(t.c.text).like(like), func.lower(t.c.author_handle).like(like))


def pg_match(vector: Any, terms: list[Term]) -> Any:
    """``vector @@ tsquery`` for ``terms`` (at least one) on PostgreSQL."""
    from sqlalchemy import bindparam, func, literal_column

    config = literal_column("'english'::regconfig")
    tsquery = None
    for i, term in enumerate(terms):
        if term.prefix:
            # Only letters and digits reach to_tsquery's syntax: ``w1 <-> w2:*``.
            expr = " <-> ".join(term.words) + ":*"
            part = func.to_tsquery(config, bindparam(f"fts_{i}", expr))
        else:
            part = func.phraseto_tsquery(config, bindparam(f"fts_{i}", " ".join(term.words)))
        tsquery = part if tsquery is None else tsquery.op("&&")(part)
    return vector.op("@@")(tsquery)


def include_in_autogenerate(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object``: the FTS5 table (+ shadow tables), PostgreSQL's stored tsvector
    column and the GIN indexes are made by migrations 0006 and 0013 only; they are not in the models."""
    if type_ == "table" and name is not None:
        return not (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    if type_ == "column" and name == PG_VECTOR_COLUMN:
        return False
    return not (type_ == "index" and name in (PG_INDEX, PG_VECTOR_INDEX))


def ensure_sqlite_triggers(conn: Any) -> None:
    """Re-create the FTS triggers if a table rebuild dropped them (no-op when present)."""
    if conn.dialect.name != "sqlite":
        return
    exists = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (FTS_TABLE,)
    ).scalar()
    if not exists:
        return
    have = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?", (FTS_TABLE + "_a%",)
    ).scalar()
    if have < len(SQLITE_TRIGGERS):
        for ddl in SQLITE_TRIGGERS:
            conn.exec_driver_sql(ddl)
        # Rows written while the triggers were missing: rebuild from the mention table.
        conn.exec_driver_sql(SQLITE_REBUILD)


# A common word matches a large share of a big store; ordering every match by time costs ~0.5 s
# at 1M. So SQLite takes the WINDOW newest-by-id matches from the index (FTS5 streams rowids in
# descending order for free), and proves no older-id row belongs in the answer (see below).
WINDOW = 2000
STRAGGLERS = 1000
# When the other filters drop nearly every match of the window: every match is read by id and
# filtered, if there are at most this many (~2 µs a row); else the plain query.
SCAN_ALL = 150_000


def fts_rowids(query: str, *, newest: int | None = None) -> Any:
    """``SELECT rowid FROM mention_fts WHERE … MATCH`` for ``query`` (at least one term), as a
    subquery for ``mention.id IN (…)``: the database reads the ids itself (no Python list of
    thousands of bound ids). ``newest``: only that many, highest ids first."""
    from sqlalchemy import text
    from sqlalchemy.sql import column

    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts"
    params: dict[str, Any] = {"fts": fts5_query(parse_query(query))}
    if newest is not None:
        sql += " ORDER BY rowid DESC LIMIT :fts_newest"
        params["fts_newest"] = newest
    return text(sql).bindparams(**params).columns(column("rowid"))


def sqlite_candidates(
    conn: Any, filtered: Any, query: str, want: int, *, by_id: Any | None = None
) -> list[int] | None:
    """Ids that surely include the ``want`` newest (created_at, id) mentions matching ``query``.

    ``filtered`` is ``select(mention.c.id)`` with every other filter applied; ``by_id`` the same
    with its text columns compared so that no index serves them (``col || ''``), used to read
    matches by id (else an index on another filter is walked, testing each of its rows against
    the matches: 50-60 ms for label=complaint at 1M).
    None means "no shortcut here, run the plain query". Exact, not a heuristic: the window holds
    every match with id ≥ its lowest id; a match with a lower id can only rank among the ``want``
    newest if it is at least as new as the ``want``-th candidate, and those few rows are checked
    one by one against the index. (Mentions usually arrive in time order, so there are none or
    few.) When the other filters keep fewer than ``want`` of the window (praise + "refund"),
    every match is read and filtered if there are at most :data:`SCAN_ALL` of them.
    """
    from sqlalchemy import bindparam, desc, func, select, text

    from monitor.store import tables

    terms = parse_query(query)
    if not terms:
        return []
    match = fts5_query(terms)
    window = max(WINDOW, want * 2)
    t = tables.mention
    by_id = filtered if by_id is None else by_id

    def newest(matches: Any) -> list[Any]:
        return conn.execute(
            by_id.add_columns(t.c.created_at)
            .where(t.c.id.in_(matches))
            .order_by(desc(t.c.created_at), desc(t.c.id))
            .limit(want)
        ).all()

    held = fts_rowids(query, newest=window).subquery("w")
    size, lowest = conn.execute(select(func.count(), func.min(held.c.rowid))).one()
    ranked = newest(fts_rowids(query, newest=window))
    if size < window:
        return [r.id for r in ranked]  # the window held every match
    if len(ranked) < want:
        # The other filters drop most matches. Every match, read by id, if they are not too many.
        total = conn.execute(
            text(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q"), {"q": match}
        ).scalar()
        if total > SCAN_ALL:
            return None
        return [r.id for r in newest(fts_rowids(query))]
    oldest = ranked[-1].created_at
    stragglers = list(
        conn.execute(
            filtered.where(t.c.id < lowest, t.c.created_at >= oldest).limit(STRAGGLERS + 1)
        ).scalars()
    )
    if len(stragglers) > STRAGGLERS:
        return None  # many late arrivals (e.g. a fresh import of recent posts): plain query
    found = [r.id for r in ranked]
    if stragglers:
        matched = text(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        found.extend(conn.execute(matched, {"q": match, "ids": stragglers}).scalars())
    return found


# PostgreSQL: newest-first over the other filters' index, testing each row's stored tsvector, finds
# a common word's newest matches within a few hundred rows; PG_SCAN bounds that walk, so a rare
# word (fewer than ``want`` matches among the PG_SCAN newest rows) goes to the GIN index instead.
PG_SCAN = 5000
PG_WINDOW = 1000


def postgres_candidates(conn: Any, filtered: Any, query: str, want: int) -> list[int] | None:
    """Ids that include the ``want`` newest (created_at, id) mentions matching ``query``, or None
    ("run the plain query"). ``filtered`` is ``select(mention.c.id)`` with every other filter applied.

    1. The PG_SCAN newest rows of ``filtered``, each tested against the stored tsvector: when
       ``want`` of them match, they are the answer (exact: every row outside is older).
    2. Else every match through the GIN index (a bitmap scan, forced for this statement, with
       room for an exact bitmap) when there are at most PG_WINDOW of them: a rare word's few rows.
    3. Else None: many matches, but not among the newest rows; the plain query walks back in time.

    Newest-first with a limit over a GIN match alone is the trap this avoids: the planner walks
    the time index testing every row (20 s at 1M for a word no mention has).
    """
    from sqlalchemy import desc, literal_column, select

    from monitor.store import tables

    terms = parse_query(query)
    if not terms:
        return []
    t = tables.mention
    if want <= PG_SCAN:
        newest = (
            filtered.add_columns(t.c.created_at, literal_column(f"mention.{PG_VECTOR_COLUMN}").label("v"))
            .order_by(desc(t.c.created_at), desc(t.c.id))
            .limit(PG_SCAN)
            .subquery("newest")
        )
        found = list(
            conn.execute(
                select(newest.c.id)
                .where(pg_match(newest.c.v, terms))
                .order_by(desc(newest.c.created_at), desc(newest.c.id))
                .limit(want)
            ).scalars()
        )
        if len(found) == want:
            return found
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
    conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")  # an exact bitmap: no per-row recheck
    try:
        ids = list(
            conn.execute(filtered.where(search_clause("postgresql", query)).limit(PG_WINDOW + 1)).scalars()
        )
    finally:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
        conn.exec_driver_sql("SET LOCAL enable_indexscan = on")
        conn.exec_driver_sql("SET LOCAL work_mem TO DEFAULT")
    return ids if len(ids) <= PG_WINDOW else None
