"""Migrations: up from empty and from every earlier revision; db check/current; a newer schema is refused."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from monitor.cli import main
from monitor.store.db import SchemaTooNew, StorageError, alembic_config, make_engine, migrate, migration_heads


def _revisions(engine) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return sorted(r.revision for r in script.walk_revisions())


def _stored(engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text("select version_num from alembic_version"))}


def test_up_from_empty_then_db_check_is_clean(db_url, capsys):
    engine = make_engine(db_url)
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert main(["db", "check", "--db", db_url]) == 0
    assert main(["db", "current", "--db", db_url]) == 0
    assert "up to date" in capsys.readouterr().out
    # Every head this release ships is applied (directly or as a dependency of another).
    assert _stored(engine) and _stored(engine) <= set(_revisions(engine))
    engine.dispose()


def test_up_from_each_previous_revision(db_url, tmp_path):
    probe = make_engine(db_url)
    revisions = _revisions(probe)
    probe.dispose()
    assert {"0001", "0002", "0003", "0005"} <= set(revisions)
    for i, rev in enumerate(revisions):
        url = db_url
        if db_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'm{i}.db'}"
        engine = make_engine(url)
        if not url.startswith("sqlite"):
            with engine.begin() as conn:  # a fresh schema each round: drop what the last one made
                tables = conn.execute(
                    text("select tablename from pg_tables where schemaname = current_schema()")
                )
                for (name,) in tables.all():
                    conn.execute(text(f'drop table if exists "{name}" cascade'))
        with engine.begin() as conn:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, rev)
        migrate(engine)
        with engine.connect() as conn:
            from monitor.store.commands import _pending

            assert _pending(conn)[1] == [], f"after upgrading from {rev}"
        engine.dispose()


def test_db_check_exits_1_when_migrations_are_pending(sqlite_url, capsys):
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    engine.dispose()
    assert main(["db", "check", "--db", sqlite_url]) == 1
    assert "pending" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", sqlite_url]) == 0
    assert main(["db", "check", "--db", sqlite_url]) == 0


def test_a_newer_schema_is_refused_naming_the_release_to_install(db_url, tmp_path, capsys):
    engine = make_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:  # what a future release would leave behind
        conn.execute(text("insert into alembic_version (version_num) values ('9999')"))
        conn.execute(text("update schema_info set value = '9.9.0' where key = 'migrated_by'"))
    with pytest.raises(SchemaTooNew, match=r"9999.*mention-monitor 9\.9\.0 or newer"):
        migrate(engine)
    engine.dispose()
    assert main(["db", "check", "--db", db_url]) == 3
    config = tmp_path / "c.yaml"
    config.write_text(f"brand: {{names: [Acme]}}\nstorage: {{url: '{db_url}'}}\n")
    assert main(["run", "-c", str(config)]) == 3  # the daemon refuses to start on it
    err = capsys.readouterr().err
    assert "newer than this mention-monitor" in err and "9.9.0" in err
    assert issubclass(SchemaTooNew, StorageError) and migration_heads()
