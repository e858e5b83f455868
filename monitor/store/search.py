"""Free-text search over mentions (text and author): SQLite FTS5, PostgreSQL full-text search.

One query language for the CLI's ``mentions --search`` and the dashboard's inbox search:
words (all must match, stemmed: ``refunds`` finds ``refund``), ``"quoted phrases"`` (adjacent
words in order) and ``word*`` (prefix). Anything else in the query (operators, quotes left
open, brackets, ``@``/``#``, ``_``) separates words and is never passed to the database's query
syntax, so no query can raise a syntax error. A query with no words matches nothing.

SQLite: an external-content FTS5 table ``mention_fts`` (porter stemmer over unicode61, accents
folded) kept in step with ``mention`` by triggers (migration 0006). PostgreSQL: a GIN index on
the ``english`` tsvector of the same two columns; :data:`PG_DOCUMENT` must stay the indexed
expression, or the planner falls back to computing it per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

FTS_TABLE = "mention_fts"
PG_DOCUMENT = "to_tsvector('english'::regconfig, mention.text || ' ' || mention.author_handle)"
PG_INDEX = "ix_mention_fulltext"

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


def search_clause(dialect: str, query: str) -> Any:
    """A WHERE clause on the ``mention`` table for ``query`` (see the module docstring)."""
    from sqlalchemy import bindparam, false, func, literal_column, or_, text
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
        return t.c.id.in_(matching)
    if dialect == "postgresql":
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
        return literal_column(PG_DOCUMENT).op("@@")(tsquery)
    like = f"%{query.lower()}%"  # another database: a plain scan, same meaning for single words
    return or_(func.lower(t.c.text).like(like), func.lower(t.c.author_handle).like(like))


def include_in_autogenerate(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object``: the FTS5 table (+ shadow tables) and the GIN expression index are
    made by migration 0006 only; they are not in the models."""
    if type_ == "table" and name is not None:
        return not (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    return not (type_ == "index" and name == PG_INDEX)


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


def sqlite_candidates(conn: Any, filtered: Any, query: str, want: int) -> list[int] | None:
    """Ids that surely include the ``want`` newest (created_at, id) mentions matching ``query``.

    ``filtered`` is ``select(mention.c.id)`` with every other filter applied. None means "no
    shortcut here, run the plain query". Exact, not a heuristic: the window holds every match
    with id ≥ its lowest id; a match with a lower id can only rank among the ``want`` newest if
    it is at least as new as the ``want``-th candidate, and those few rows are checked one by
    one against the index. (Mentions usually arrive in time order, so there are none or few.)
    """
    from sqlalchemy import bindparam, desc, text

    from monitor.store import tables

    terms = parse_query(query)
    if not terms:
        return []
    match = fts5_query(terms)
    window = max(WINDOW, want * 2)
    if window > 30_000:
        return None  # deep paging: more ids than one statement may bind
    ids = list(
        conn.execute(
            text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q ORDER BY rowid DESC LIMIT :n"),
            {"q": match, "n": window},
        ).scalars()
    )
    if len(ids) < window:
        return ids  # every match
    t = tables.mention
    ranked = conn.execute(
        filtered.add_columns(t.c.created_at)
        .where(t.c.id.in_(ids))
        .order_by(desc(t.c.created_at), desc(t.c.id))
        .limit(want)
    ).all()
    if len(ranked) < want:
        return None  # the other filters drop most matches: the plain query is the better plan
    oldest = ranked[-1].created_at
    lowest = ids[-1]
    stragglers = list(
        conn.execute(
            filtered.where(t.c.id < lowest, t.c.created_at >= oldest).limit(STRAGGLERS + 1)
        ).scalars()
    )
    if len(stragglers) > STRAGGLERS:
        return None  # many late arrivals (e.g. a fresh import of recent posts): plain query
    if stragglers:
        matched = text(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        ids.extend(conn.execute(matched, {"q": match, "ids": stragglers}).scalars())
    return [r.id for r in ranked] + ids[window:]


PG_WINDOW = 1000


def postgres_candidates(conn: Any, filtered: Any, query: str) -> list[int] | None:
    """Every matching id (other filters applied: ``filtered`` selects ids) when there are at most
    PG_WINDOW of them, else None (then the plain query is fast).

    Newest-first with a limit, PostgreSQL's planner walks the time index backwards and tests each
    row's tsvector: right for a common word (50 hits come quickly), 20 s at 1M for a word no
    mention has. Fetched through the GIN index (a bitmap scan, forced for this statement) a rare
    word's matches are a few rows; a common word stops at WINDOW + 1 and keeps the planner's plan.
    """
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
    try:
        ids = list(
            conn.execute(filtered.where(search_clause("postgresql", query)).limit(PG_WINDOW + 1)).scalars()
        )
    finally:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
        conn.exec_driver_sql("SET LOCAL enable_indexscan = on")
    return ids if len(ids) <= PG_WINDOW else None
