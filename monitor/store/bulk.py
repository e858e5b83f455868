"""Page-sized reads and writes for the ingest path: one statement per table per page.

SQLAlchemy's executemany path runs every value of every row through its type processors and
parameter dictionaries, and on PostgreSQL renders a 500-row ``VALUES`` list (or a 500-item
``IN`` list) that psycopg parses again on every call, as it caches only short queries: together
more than half of the store's time per page. Here a page is one statement per table:

- SQLite: one multi-row ``INSERT … VALUES (?, …), (?, …) … [ON CONFLICT …] [RETURNING …]``;
- PostgreSQL: ``INSERT … SELECT … FROM jsonb_array_elements(%s)``: the page is one JSON
  parameter (encoded in C), the query a short constant text psycopg prepares once.

``IN`` lists are one parameter on both (a JSON array read with ``json_each`` on SQLite, a text
array compared with ``= ANY`` on PostgreSQL), so those queries are constant texts too.

Values are converted here as the column types would convert them, so rows read back the same
as rows written through SQLAlchemy: aware datetimes become naive UTC (on SQLite the text
SQLAlchemy writes, ``YYYY-MM-DD HH:MM:SS.ffffff``), JSON columns their JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, Table
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from monitor.store.types import UTCDateTime

_TIMES = (DateTime, UTCDateTime)

# SQLite allows 32766 bound values per statement (3.32+); a bigger page is split to stay under it.
SQLITE_MAX_VALUES = 32_000


def dumps(value: Any) -> str:
    """JSON text of ``value``: orjson (C, ~5x the standard library on source payloads), or the
    standard library for what orjson refuses (integers beyond 64 bits, lone surrogates)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    on_conflict: str = "",
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts with the same keys) in one statement per page; the RETURNING rows.

    Columns missing from the rows get their column default, as a SQLAlchemy insert gives them.
    ``on_conflict`` is the clause as both dialects spell it, e.g.
    ``ON CONFLICT (platform, external_id) DO NOTHING`` or
    ``ON CONFLICT (…) DO UPDATE SET n = author.n + excluded.n``.
    """
    if not rows:
        return []
    dialect = conn.dialect.name
    given = tuple(rows[0])
    defaults = _defaults(table, given)
    columns = given + tuple(name for name, _ in defaults)
    convert = _converters(table, columns, dialect)
    values = []
    for row in rows:
        full = {**row, **{name: make() for name, make in defaults}} if defaults else row
        values.append([f(full[c]) if f else full[c] for c, f in convert])
    tail = (f" {on_conflict}" if on_conflict else "") + (
        f" RETURNING {', '.join(returning)}" if returning else ""
    )
    # Through SQLAlchemy (not a raw cursor): driver errors arrive as DBAPIError, which the
    # scheduler treats as a database outage, and a dropped connection is taken out of the pool.
    if dialect == "postgresql":
        result = conn.exec_driver_sql(_pg_insert(table, columns) + tail, (dumps(values),))
        return [tuple(r) for r in result.all()] if returning else []
    out: list[tuple[Any, ...]] = []
    per = max(1, SQLITE_MAX_VALUES // len(columns))
    for start in range(0, len(values), per):
        chunk = values[start : start + per]
        flat = tuple(v for row in chunk for v in row)
        result = conn.exec_driver_sql(_sqlite_insert(table.name, columns, len(chunk)) + tail, flat)
        if returning:
            out.extend(tuple(r) for r in result.all())
    return out


def rows_in(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    *,
    where: Mapping[str, Any],
    column: str,
    values: Sequence[Any],
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE <where equalities> AND column IN values``: one statement,
    whatever the number of values. JSON columns come back decoded; other values as the driver
    returns them (on SQLite, times are text)."""
    if not values:
        return []
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # Planned for these values each time (custom plans in this transaction): a generic plan of
        # the prepared statement, made while the table was small or its statistics stale, matched
        # the first index column only and filtered thousands of rows (100 ms a page at 20k).
        conds = " AND ".join([f"{name} = %s" for name in where] + [f"{column} = ANY(%s::text[])"])
        params = [*where.values(), [str(v) for v in values]]
    else:
        conds = " AND ".join(
            [f"{name} = ?" for name in where] + [f"{column} IN (SELECT value FROM json_each(?))"]
        )
        params = [*where.values(), dumps(list(values))]
    sql = f"SELECT {', '.join(columns)} FROM {table.name} WHERE {conds}"
    if dialect == "postgresql" and (conn.dialect.server_version_info or (0,)) >= (12,):
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")  # PostgreSQL 12+
    rows = [tuple(r) for r in conn.exec_driver_sql(sql, tuple(params)).all()]
    decode = [i for i, name in enumerate(columns) if _is_json(table.c[name].type)]
    if dialect != "sqlite" or not decode:
        return rows
    out = []
    for row in rows:
        row = list(row)
        for i in decode:
            row[i] = None if row[i] is None else json.loads(row[i])
        out.append(tuple(row))
    return out


Converter = Callable[[Any], Any] | None


def _is_json(kind: Any) -> bool:
    """A JSON column, whether typed ``JSON`` or a ``TypeDecorator`` over it (``types.JSONType``)."""
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, JSON)


@cache
def _defaults(table: Table, given: tuple[str, ...]) -> list[tuple[str, Callable[[], Any]]]:
    """(column, value maker) for the columns not given that have a Python-side default."""
    out: list[tuple[str, Callable[[], Any]]] = []
    for column in table.columns:
        default = column.default
        if column.name in given or default is None:
            continue
        if default.is_callable:
            arg = default.arg  # SQLAlchemy wraps a no-argument callable to take the context
            out.append((column.name, lambda arg=arg: arg(None)))
        elif default.is_scalar:
            out.append((column.name, lambda value=default.arg: value))
    return out


@cache
def _converters(table: Table, columns: tuple[str, ...], dialect: str) -> list[tuple[str, Converter]]:
    out: list[tuple[str, Converter]] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, _TIMES):
            out.append((name, _sqlite_time if dialect == "sqlite" else _pg_time))
        elif _is_json(kind):
            # PostgreSQL: the value stays in the page's JSON document, as JSON.
            out.append((name, dumps if dialect == "sqlite" else None))
        elif isinstance(kind, Boolean) and dialect == "sqlite":
            out.append((name, _sqlite_bool))
        else:
            out.append((name, None))
    return out


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def _sqlite_time(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME text, always with microseconds (times are compared as text).
    value = _naive_utc(value)
    return None if value is None else value.isoformat(" ", "microseconds")


def _pg_time(value: datetime | None) -> str | None:
    value = _naive_utc(value)
    return None if value is None else value.isoformat()


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


@cache
def _sqlite_insert(table: str, columns: tuple[str, ...], n: int) -> str:
    one = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([one] * n)


@cache
def _pg_insert(table: Table, columns: tuple[str, ...]) -> str:
    picks = []
    for i, name in enumerate(columns):
        kind = table.c[name].type
        if _is_json(kind):
            picks.append(f"(v -> {i})")
        else:
            # Plain base types: a cast to varchar(n) would cut a long value silently, while the
            # insert's own assignment cast from text refuses it, as a bound parameter would be.
            picks.append(f"(v ->> {i})::{_pg_base_type(kind)}")
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT {', '.join(picks)} FROM jsonb_array_elements(%s::jsonb) AS v"
    )


def _pg_base_type(kind: Any) -> str:
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, Integer):
        return "bigint"
    if isinstance(kind, Float):
        return "double precision"
    if isinstance(kind, _TIMES):
        return "timestamp"
    if isinstance(kind, Date):
        return "date"
    return "text"
