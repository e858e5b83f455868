"""Exact inbox counts without counting the mention table: per-combination totals kept by triggers.

``inbox_count`` holds how many mentions have each combination of platform, label, priority,
severity, status, assignee and claimer (``''`` stands for "none"); at a million mentions that is a
few hundred rows (severity is set only on complaints). The database keeps it exact itself:
triggers on ``mention`` (migrations 0011, 0014) append
``+1`` / ``-1`` rows to ``inbox_count_delta`` on every insert, delete and change of one of those
columns, whoever writes (the pipeline, the workflow, an import, a prune, plain SQL). Writers only
append, so they never wait on each other for a counter row (and cannot deadlock on one). A read
sums both tables in one statement (one snapshot); once the delta log is longer than
:data:`FOLD_AT` rows, a reader folds it into ``inbox_count`` (one folder at a time).

SQLite: row triggers, re-created by :func:`ensure_triggers` after any migration (a batch ALTER
that rebuilds ``mention`` drops them; the counts are then recomputed). PostgreSQL: statement
triggers with transition tables, so a bulk statement appends one row per combination it changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

DIMS = ("platform", "label", "priority", "severity", "status", "assignee", "claimed_by")
DIMS_0011 = tuple(d for d in DIMS if d != "severity")  # what migrations 0011-0013 count (0014 adds severity)
NULLABLE = ("label", "priority", "severity", "assignee", "claimed_by")  # stored as '' when NULL
FOLD_AT = 2000


def _vals(row: str, dims: tuple[str, ...] = DIMS) -> str:
    return ", ".join(f"coalesce({row}.{d}, '')" if d in NULLABLE else f"{row}.{d}" for d in dims)


def sqlite_triggers(dims: tuple[str, ...] = DIMS) -> tuple[str, ...]:
    cols = ", ".join(dims)
    changed = " OR ".join(f"old.{d} IS NOT new.{d}" for d in dims)
    return (
        f"""CREATE TRIGGER IF NOT EXISTS inbox_count_ai AFTER INSERT ON mention BEGIN
  INSERT INTO inbox_count_delta ({cols}, n) VALUES ({_vals("new", dims)}, 1);
END""",
        f"""CREATE TRIGGER IF NOT EXISTS inbox_count_ad AFTER DELETE ON mention BEGIN
  INSERT INTO inbox_count_delta ({cols}, n) VALUES ({_vals("old", dims)}, -1);
END""",
        f"""CREATE TRIGGER IF NOT EXISTS inbox_count_au AFTER UPDATE OF {cols} ON mention WHEN {changed} BEGIN
  INSERT INTO inbox_count_delta ({cols}, n) VALUES ({_vals("old", dims)}, -1);
  INSERT INTO inbox_count_delta ({cols}, n) VALUES ({_vals("new", dims)}, 1);
END""",
    )


SQLITE_TRIGGERS = sqlite_triggers()
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS inbox_count_ai",
    "DROP TRIGGER IF EXISTS inbox_count_ad",
    "DROP TRIGGER IF EXISTS inbox_count_au",
)


def _pg_delta(sign: str, rows: str, dims: tuple[str, ...]) -> str:
    return f"SELECT {_vals('r', dims)}, {sign}1 FROM {rows} r"


def pg_function(dims: tuple[str, ...] = DIMS) -> str:
    cols = ", ".join(dims)
    return f"""CREATE OR REPLACE FUNCTION inbox_count_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO inbox_count_delta ({cols}, n)
      SELECT {cols}, sum(n) FROM ({_pg_delta("", "new_rows", dims)}) AS d({cols}, n) GROUP BY {cols};
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO inbox_count_delta ({cols}, n)
      SELECT {cols}, sum(n) FROM ({_pg_delta("-", "old_rows", dims)}) AS d({cols}, n) GROUP BY {cols};
  ELSE
    INSERT INTO inbox_count_delta ({cols}, n)
      SELECT {cols}, sum(n) FROM ({_pg_delta("-", "old_rows", dims)}
        UNION ALL {_pg_delta("", "new_rows", dims)}) AS d({cols}, n) GROUP BY {cols} HAVING sum(n) <> 0;
  END IF;
  RETURN NULL;
END $$"""


PG_TRIGGERS = (
    "CREATE TRIGGER inbox_count_ins AFTER INSERT ON mention REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION inbox_count_track()",
    "CREATE TRIGGER inbox_count_del AFTER DELETE ON mention REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION inbox_count_track()",
    "CREATE TRIGGER inbox_count_upd AFTER UPDATE ON mention REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inbox_count_track()",
)
PG_DROP = (
    "DROP TRIGGER IF EXISTS inbox_count_ins ON mention",
    "DROP TRIGGER IF EXISTS inbox_count_del ON mention",
    "DROP TRIGGER IF EXISTS inbox_count_upd ON mention",
    "DROP FUNCTION IF EXISTS inbox_count_track()",
)


def rebuild(dims: tuple[str, ...] = DIMS) -> tuple[str, ...]:
    cols = ", ".join(dims)
    return (
        "DELETE FROM inbox_count_delta",
        "DELETE FROM inbox_count",
        f"INSERT INTO inbox_count ({cols}, n) SELECT {_vals('mention', dims)}, count(*) FROM mention "
        f"GROUP BY {_vals('mention', dims)}",
    )


_COLS = ", ".join(DIMS)


def install(conn: Connection, dims: tuple[str, ...] = DIMS) -> None:
    """Create the triggers and count what is stored (the migrations; also after a table rebuild).

    ``dims``: the columns the count tables have at that revision (0011 counts :data:`DIMS_0011`).
    """
    if conn.dialect.name == "postgresql":
        for ddl in PG_DROP[:-1]:
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql(pg_function(dims))
        for ddl in PG_TRIGGERS:
            conn.exec_driver_sql(ddl)
    else:
        for ddl in sqlite_triggers(dims):
            conn.exec_driver_sql(ddl)
    for sql in rebuild(dims):
        conn.exec_driver_sql(sql)


def uninstall(conn: Connection) -> None:
    for ddl in PG_DROP if conn.dialect.name == "postgresql" else SQLITE_DROP:
        conn.exec_driver_sql(ddl)


def ensure_triggers(conn: Connection) -> None:
    """SQLite: re-create the triggers and recount if a table rebuild (batch ALTER) dropped them."""
    if conn.dialect.name != "sqlite":
        return
    if not conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'inbox_count'").scalar():
        return
    have = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'inbox_count_a_'"
    ).scalar()
    if have < len(SQLITE_TRIGGERS):
        install(conn)


def combinations(engine: Engine) -> list[tuple[Any, ...]]:
    """Every stored combination of :data:`DIMS` with its number of mentions (``None`` for none)."""
    _fold_if_long(engine)
    sql = text(
        f"SELECT {_COLS}, sum(n) FROM (SELECT {_COLS}, n FROM inbox_count "
        f"UNION ALL SELECT {_COLS}, n FROM inbox_count_delta) AS c GROUP BY {_COLS} HAVING sum(n) <> 0"
    )
    with engine.connect() as conn:
        rows = conn.execute(sql).all()
    nullable = [d in NULLABLE for d in DIMS]
    return [
        (*(None if z and v == "" else v for z, v in zip(nullable, r[:-1], strict=True)), int(r[-1]))
        for r in rows
    ]


def _fold_if_long(engine: Engine) -> None:
    """Move the delta log into ``inbox_count`` once it holds more than :data:`FOLD_AT` rows."""
    with engine.connect() as conn:
        low, high = conn.execute(text("SELECT min(id), max(id) FROM inbox_count_delta")).one()
    if high is None or high - low < FOLD_AT:
        return
    fold(engine)


def fold(engine: Engine) -> bool:
    """Sum the delta log into ``inbox_count`` and empty it; False when another process is folding."""
    if engine.dialect.name == "postgresql":
        return _fold_postgres(engine)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM inbox_count_delta WHERE 0")  # take the write lock first
            _fold_into(conn)
    except OperationalError:
        return False  # another writer holds the lock; the next read folds
    return True


# One folder at a time per schema, decided before the fold's snapshot is taken.
_PG_LOCK = "hashtext('mention-monitor:inbox-count:' || current_schema())"


def _fold_postgres(engine: Engine) -> bool:
    """The fold under a session advisory lock taken *before* its REPEATABLE READ transaction.

    Taken inside it, the lock could be granted just after another folder committed, to a
    transaction whose snapshot predates that commit: it would re-add deltas already folded and
    then fail with a serialization error (a 500 on the page that triggered the fold). Locked
    first, the snapshot sees every earlier fold. REPEATABLE READ keeps the delete to the rows
    summed: a delta committed late with a lower id stays for the next fold.
    """
    with engine.connect() as conn:
        got = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({_PG_LOCK})").scalar()
        conn.commit()
        if not got:
            return False
        try:
            with conn.execution_options(isolation_level="REPEATABLE READ").begin():
                folded = _fold_into(conn)
            if folded:
                # The deleted deltas stay as dead rows until a vacuum, and every count read scans
                # them: after a bulk import of 1M mentions, 50-70 ms a read, planned (from the stale
                # statistics) as a parallel, JIT-compiled scan of a million rows. Autovacuum may be
                # off or a minute away; this table is small once vacuumed, so vacuum it now.
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("VACUUM (ANALYZE) inbox_count_delta")
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK})")
            conn.commit()
    return True


def _fold_into(conn: Connection) -> bool:
    """Sum the delta log into ``inbox_count``; False when there was nothing to fold."""
    top = conn.execute(text("SELECT max(id) FROM inbox_count_delta")).scalar()
    if top is None:
        return False
    conn.execute(
        text(
            f"INSERT INTO inbox_count ({_COLS}, n) SELECT {_COLS}, sum(n) FROM inbox_count_delta "
            f"WHERE id <= :top GROUP BY {_COLS} "
            f"ON CONFLICT ({_COLS}) DO UPDATE SET n = inbox_count.n + excluded.n"
        ),
        {"top": top},
    )
    conn.execute(text("DELETE FROM inbox_count_delta WHERE id <= :top"), {"top": top})
    conn.execute(text("DELETE FROM inbox_count WHERE n = 0"))
    return True
