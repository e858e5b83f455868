"""The database: engine creation (SQLite in WAL mode, or PostgreSQL), migrations, sessions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import create_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


class StorageError(RuntimeError):
    """The storage URL or database cannot be used; the message says how to fix it."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and their parent folder."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(
            f"storage.url: not a database URL: {url!r} (e.g. sqlite:////var/lib/x.db)"
        ) from exc
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = " Install the extra: pip install 'mention-monitor[postgres]'." if "postgres" in url else ""
        raise StorageError(f"storage.url: no driver for {parsed.drivername!r} ({exc}).{hint}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers (CLI, dashboard) never block the daemon's writer, and commits are cheap.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache (default 2 MiB): the mention indexes of a busy brand outgrow the
    # default within days, and every insert then reads index pages back from disk.
    cur.execute("PRAGMA cache_size=-65536")
    # Read through a memory map instead of read() calls (virtual address space, not resident memory).
    cur.execute("PRAGMA mmap_size=268435456")
    # Checkpoint the WAL every ~40 MB instead of 4 MB: each checkpoint fsyncs the database, and a
    # page of mentions touches a dozen index pages that are then written back once, not per commit.
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creates it on an empty database)."""
    try:
        with engine.begin() as conn:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    except OperationalError as exc:
        raise StorageError(
            f"cannot open the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.orig}; check storage.url, that the server runs and the user may write there"
        ) from exc


def insert_for(engine_or_session: Any) -> Any:
    """The dialect's ``insert`` that supports ``on_conflict_do_nothing/do_update``."""
    bind = engine_or_session.get_bind() if hasattr(engine_or_session, "get_bind") else engine_or_session
    if bind.dialect.name == "postgresql":
        return postgresql.insert
    if bind.dialect.name == "sqlite":
        return sqlite.insert
    raise StorageError(f"unsupported database {bind.dialect.name!r}: use SQLite or PostgreSQL")
