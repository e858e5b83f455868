"""Storage: migrations match the models on both databases; SQLite runs in WAL mode; bad URLs explain."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import monitor.store.models  # noqa: F401
from monitor.cli import main
from monitor.store.db import StorageError, make_engine, migrate


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == [], "models changed without a migration: add one under monitor/store/migrations/versions"


def test_migrate_is_idempotent(engine):
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from alembic_version")).scalar() == 1


def test_sqlite_uses_wal(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar() == "wal"


def test_bad_storage_urls_say_what_to_do(tmp_path, capsys):
    with pytest.raises(StorageError, match="not a database URL"):
        make_engine("not a url")
    with pytest.raises(StorageError, match="cannot open the database"):
        migrate(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert main(["mentions", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"]) == 3
    assert "storage error: cannot open the database" in capsys.readouterr().err
