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
from monitor.store.search import include_in_autogenerate


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_in_autogenerate}
            ),
            SQLModel.metadata,
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


def test_upgrade_keeps_and_backfills_existing_rows(db_url):
    """A database from an older release upgrades in place; alerts learn their mention's author."""
    from alembic import command

    from monitor.store.db import alembic_config

    engine = make_engine(db_url)
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(
            text(
                "insert into mention (platform, external_id, source, author_handle, text, created_at,"
                " fetched_at, addressed_to_brand, raw, reasons, status, conversation_id)"
                " values ('x', '1', 'x', 'amy', 'old post', '2026-01-01', '2026-01-01', false, '{}', '[]',"
                " 'new', 'c9')"
            )
        )
        conn.execute(
            text(
                "insert into author (platform, handle, mentions_total, complaints_total)"
                " values ('x', 'amy', 1, 1)"
            )
        )
        conn.execute(
            text(
                "insert into alert_outbox (key, kind, mention_id, route, created_at)"
                " select 'mention:' || id || ':route:r', 'mention', id, 'r', '2026-01-01' from mention"
            )
        )
    migrate(engine)
    with engine.connect() as conn:
        alert = conn.execute(text("select platform, author_handle, conversation_id from alert_outbox")).one()
        recent = conn.execute(text("select recent_complaints from author")).scalar()
    assert tuple(alert) == ("x", "amy", "c9")
    assert recent in ([], "[]")


def test_upgrade_to_0018_keeps_triage_severity_on_existing_corrections(db_url):
    """Corrections recorded before 0018 learn the severity triage gave their mention (until then a
    relabel never changed mention.severity), so triage-eval can compare it with the team's."""
    from datetime import UTC, datetime

    from alembic import command

    from monitor.store import tables
    from monitor.store.db import alembic_config

    at = datetime(2026, 11, 1, tzinfo=UTC)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0017")
        ids = []
        for key, label, severity in (("a", "spam", "severe"), ("b", "question", None)):
            ids.append(
                conn.execute(
                    tables.mention.insert().values(
                        platform="x",
                        external_id=key,
                        source="x",
                        author_handle="amy",
                        text="old post",
                        created_at=at,
                        fetched_at=at,
                        label=label,
                        severity=severity,
                        reasons=[],
                        status="new",
                        raw={},
                        version=1,
                        addressed_to_brand=False,
                    )
                ).inserted_primary_key[0]
            )
        for mention_id, predicted, corrected in (
            (ids[0], "complaint", "spam"),
            (ids[1], "neutral", "question"),
        ):
            conn.execute(  # the 0017 table has no predicted_severity column
                text(
                    "insert into label_correction (mention_id, predicted, corrected, severity, actor, at)"
                    " values (:m, :p, :c, null, 'ann', :at)"
                ),
                {"m": mention_id, "p": predicted, "c": corrected, "at": at},
            )
    migrate(engine)
    with engine.connect() as conn:
        got = dict(conn.execute(text("select mention_id, predicted_severity from label_correction")).all())
        kept = conn.execute(text("select count(*) from mention")).scalar()
    assert got == {ids[0]: "severe", ids[1]: None} and kept == 2
    engine.dispose()
