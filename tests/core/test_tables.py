"""The Core table catalogue (monitor/store/tables.py) is the models' schema, table for table."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

from monitor.store import models, tables

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


def _ddl(table, dialect) -> list[str]:  # type: ignore[no-untyped-def]
    """CREATE TABLE and every CREATE INDEX of ``table``, as the database would receive them."""
    statements = [str(CreateTable(table).compile(dialect=dialect)).strip()]
    for index in sorted(table.indexes, key=lambda i: i.name):
        statements.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return statements


def test_same_tables() -> None:
    assert sorted(tables.metadata.tables) == sorted(SQLModel.metadata.tables)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", sorted(SQLModel.metadata.tables))
def test_same_ddl(name: str, dialect: str) -> None:
    assert _ddl(tables.metadata.tables[name], DIALECTS[dialect]) == _ddl(
        SQLModel.metadata.tables[name], DIALECTS[dialect]
    )


def _default(column):  # type: ignore[no-untyped-def]
    """What a Core insert that omits the column writes (a callable default is called)."""
    if column.default is None:
        return ("none",)
    if column.default.is_callable:
        return ("call", column.default.arg(None))
    return ("scalar", column.default.arg)


@pytest.mark.parametrize("name", sorted(SQLModel.metadata.tables))
def test_same_defaults_and_types(name: str) -> None:
    model, core = SQLModel.metadata.tables[name], tables.metadata.tables[name]
    for column in model.columns:
        twin = core.c[column.name]
        assert _default(twin) == _default(column), column.name
        assert (twin.primary_key, twin.nullable, twin.autoincrement) == (
            column.primary_key,
            column.nullable,
            column.autoincrement,
        ), column.name
        # The Python types values come back as (e.g. UTCDateTime returns aware datetimes).
        model_type = type(column.type).__name__.replace("AutoString", "String")  # SQLModel's String
        assert type(twin.type).__name__ == model_type, column.name
        assert (
            getattr(twin.type, "_variant_mapping", {}).keys()
            == getattr(column.type, "_variant_mapping", {}).keys()
        ), column.name
        if column.default is not None and column.default.is_callable:
            # Each insert gets its own empty dict/list, never a shared one.
            assert twin.default.arg(None) is not twin.default.arg(None), column.name


def test_statuses_are_the_models() -> None:
    assert models.MENTION_STATUSES == tables.MENTION_STATUSES
    assert models.REPLY_STATUSES == tables.REPLY_STATUSES
    assert models.DELIVERY_STATUSES == tables.DELIVERY_STATUSES
    assert models.SOURCE_STATES == tables.SOURCE_STATES


@pytest.mark.parametrize(
    "module", ["monitor.workflow", "monitor.store.queries", "monitor.store.db", "monitor.cli"]
)
def test_fast_modules_load_no_orm(module: str) -> None:
    """What `ack`, `assign`, `label` and `mentions` import: no SQLModel, ORM, pydantic, alembic or rich."""
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('sqlmodel', 'sqlalchemy.orm', 'pydantic', 'alembic', 'rich', 'yaml') "
        "if m in sys.modules]; print(' '.join(heavy))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == []
