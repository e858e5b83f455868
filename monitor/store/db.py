"""The database: engine creation (SQLite in WAL mode, or PostgreSQL), migrations, sessions."""

from __future__ import annotations

import logging
import re
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from monitor.store.walcheckpoint import WalCheckpointer, wal_checkpointer_for

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


class StorageError(RuntimeError):
    """The storage URL or database cannot be used; the message says how to fix it."""


# The URL of the engine made last: a command's top level names it when a database error escapes.
last_url: Any = None


class NoDatabase(StorageError):
    """A command that only reads was pointed at a SQLite file that does not exist."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"no database at {path} (check --db, -c or storage.url; nothing was created. "
            "The daemon, `import` and `demo` create a database; try `mention-monitor demo` first)"
        )


class SchemaTooNew(StorageError):
    """The database was migrated by a newer mention-monitor than this one."""


# (pattern in the driver's message, what it means, what to do) — first match wins.
_CAUSES: list[tuple[str, str, str]] = [
    (
        "file is not a database",
        "the file is not a SQLite database",
        "point storage.url (or --db) at the right file, or move this file away to start a new database",
    ),
    (
        "readonly database",
        "the database file is read-only for this user",
        "give the service user write access to the file and its folder (systemd: StateDirectory=)",
    ),
    (
        "read-only file system",
        "the file system is mounted read-only",
        "put the database under a writable path (systemd: StateDirectory=, ReadWritePaths=)",
    ),
    (
        "disk is full",
        "the disk holding the database is full",
        "free space on that file system (or prune: mention-monitor prune --older-than 365d --apply)",
    ),
    (
        "unable to open database file",
        "the database file cannot be opened or created",
        "check that its folder exists and the service user may write there",
    ),
    ("disk i/o error", "the disk returned an I/O error", "check the disk (dmesg) and free space"),
    (
        "password authentication failed",
        "PostgreSQL refused the user name or password",
        "check the user and password in storage.url (or its *_file credential)",
    ),
    (
        "does not exist",
        "the database or role does not exist on the server",
        "create it (createdb / CREATE ROLE) or fix the name in storage.url",
    ),
    (
        "connection refused",
        "nothing listens at that host and port",
        "start PostgreSQL, or fix the host and port in storage.url",
    ),
    ("could not translate host name", "the host name does not resolve", "fix the host in storage.url"),
    ("timeout", "the server did not answer in time", "check the network path and that the server runs"),
    (
        "terminating connection",
        "the server closed the connection (restart or admin shutdown)",
        "check that PostgreSQL is running; the daemon retries on its own",
    ),
    ("server closed the connection", "the server closed the connection", "check that PostgreSQL is running"),
    (
        "permission denied",
        "the database user lacks a privilege",
        "grant the user rights on the database/schema (GRANT ALL ON SCHEMA … TO …)",
    ),
]


def masked_url(url: Any) -> str:
    """The URL with its password replaced by ``***``."""
    try:
        return make_url(str(url) if not hasattr(url, "render_as_string") else url).render_as_string(
            hide_password=True
        )
    except ArgumentError:
        return "<not a database URL>"


def describe_error(exc: BaseException, url: Any, *, what: str = "database error at") -> str:
    """One line for a person: which database (password masked), what went wrong, what to do."""
    orig = getattr(exc, "orig", None) or exc
    raw = " ".join(str(orig).split())[:300]
    low = raw.lower()
    for pattern, cause, fix in _CAUSES:
        if pattern in low:
            return f"{what} {masked_url(url)}: {cause} ({raw}); {fix}"
    return f"{what} {masked_url(url)}: {raw}; check storage.url and that the database is reachable"


def make_engine(url: str, *, echo: bool = False, create: bool = True) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and their parent folder.

    ``create=False`` (commands that only read) refuses a SQLite file that does not exist
    instead of creating it and its folders: a mistyped path is an error, not an empty table.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(
            f"storage.url: not a database URL: {url!r} (e.g. sqlite:////var/lib/x.db)"
        ) from exc
    global last_url
    last_url = parsed
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser().absolute()
            if not create and not path.exists():
                raise NoDatabase(path)
            path.parent.mkdir(parents=True, exist_ok=True)
        # No prepared-statement cache (sqlite3 keeps 128 per connection by default): a page's
        # inserts, upserts and IN (…) lookups are one SQL text per row count, each a prepared
        # statement of up to a few MB, so the cache only grew (the daemon's RSS rose ~2 MB/s with
        # its five source connections, 180 → 280 MB in a minute). Preparing the small repeated
        # statements again costs microseconds; SQLAlchemy still caches their compiled SQL.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30, "cached_statements": 0}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = (
            " Install the postgres extra: pip install '.[postgres]' in the checkout"
            " (or: pip install 'psycopg[binary]')."
            if "postgres" in url
            else ""
        )
        raise StorageError(f"storage.url: no driver for {parsed.drivername!r} ({exc}).{hint}") from exc
    if engine.dialect.name == "sqlite":
        checkpointer = wal_checkpointer_for(parsed.database)
        engine.wal_checkpointer = checkpointer  # type: ignore[attr-defined]
        event.listen(engine, "connect", _sqlite_pragmas)
        if checkpointer is not None:
            # Checkpoints run on the checkpointer's thread, not inside a committing ingest page.
            event.listen(engine, "connect", partial(_no_autocheckpoint, checkpointer))
            # After the commit: on a connection's return to the pool (ConnectionEvents.commit
            # fires before it, when the WAL does not yet hold the page).
            event.listen(engine, "checkin", lambda _dbapi, _record: checkpointer.after_commit())
    return engine


def _no_autocheckpoint(checkpointer: WalCheckpointer, dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")
    # Truncate the WAL when it starts over, so its size tells the checkpointer what is pending.
    dbapi_conn.execute("PRAGMA journal_size_limit=0")
    checkpointer.page_size = dbapi_conn.execute("PRAGMA page_size").fetchone()[0]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers (CLI, dashboard) never block the daemon's writer, and commits are cheap.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 2 MiB of page cache per connection (SQLite's default size). The daemon holds a connection
    # per thread (sources, notifier, sender, web): at 64 MiB each its peak RSS passed 450 MB on a
    # 1M-mention store, at 8 MiB the caches still took ~25 MB. Pages beyond this stay in the OS's
    # file cache, which costs a read() call, not a disk read, and is not the process's memory:
    # a 500-mention page stored into the 1M store took 0.95x the time of 8 MiB (same run).
    cur.execute("PRAGMA cache_size=-2048")
    # No memory map: mapped database pages count as the process's resident memory (~220 MB of a
    # 256 MiB map at 1M mentions), for no measurable speed-up over the OS file cache here.
    cur.execute("PRAGMA mmap_size=0")
    # Checkpoint the WAL every ~40 MB instead of 4 MB: each checkpoint fsyncs the database, and a
    # page of mentions touches a dozen index pages that are then written back once, not per commit.
    # For plain files make_engine turns this off again and a WalCheckpointer thread checkpoints at
    # the same size (monitor/store/walcheckpoint.py).
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


_REVISION = re.compile(r"^revision\b[^=]*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\b[^=]*=\s*(.+)$", re.M)
_DEPENDS = re.compile(r"^depends_on\b[^=]*=\s*(.+)$", re.M)
_LITERAL = re.compile(r"[\"']([^\"']+)[\"']")


@cache
def migration_heads() -> frozenset[str]:
    """The newest revision(s), read from the migration files' ``revision``/``down_revision`` lines.

    Reading a few small files is ~1 ms; importing alembic and loading its script directory is
    ~0.3 s, which every CLI command paid before doing anything.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = _REVISION.search(text)
        if rev is None:
            continue
        revisions.add(rev.group(1))
        # depends_on counts like down_revision: alembic drops a dependency from alembic_version.
        for found in (_DOWN.search(text), _DEPENDS.search(text)):
            if found:
                parents.update(_LITERAL.findall(found.group(1)))
    return frozenset(revisions - parents)


def _at_heads(conn: Connection) -> bool:
    """True when the database's alembic_version rows are exactly the migration heads."""
    if not conn.dialect.has_table(conn, "alembic_version"):
        return False
    stored = {row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
    return stored == migration_heads()


def heads_text() -> str:
    """The newest revision(s) this release ships, for messages."""
    return ", ".join(sorted(migration_heads()))


@cache
def known_revisions() -> frozenset[str]:
    """Every revision id this release ships."""
    found = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        rev = _REVISION.search(path.read_text(encoding="utf-8"))
        if rev is not None:
            found.add(rev.group(1))
    return frozenset(found)


def stored_revisions(conn: Connection) -> set[str]:
    """The revisions recorded in the database (empty for a new database)."""
    if not conn.dialect.has_table(conn, "alembic_version"):
        return set()
    return {row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}


def refuse_newer(conn: Connection, url: Any) -> None:
    """Raise :class:`SchemaTooNew` when the database holds revisions this release does not know."""
    unknown = stored_revisions(conn) - known_revisions()
    if not unknown:
        return
    from monitor import __version__

    by = None
    if conn.dialect.has_table(conn, "schema_info"):
        by = conn.exec_driver_sql("SELECT value FROM schema_info WHERE key = 'migrated_by'").scalar()
    install = f"mention-monitor {by} or newer" if by else "the mention-monitor release that migrated it"
    raise SchemaTooNew(
        f"database {masked_url(url)} has schema revision {', '.join(sorted(unknown))}, newer than this "
        f"mention-monitor {__version__} knows (up to {', '.join(sorted(migration_heads()))}); "
        f"install {install} (pip install -U …), or point storage.url at another database"
    )


def _record_release(conn: Connection) -> None:
    from monitor import __version__

    if not conn.dialect.has_table(conn, "schema_info"):
        return
    conn.exec_driver_sql("DELETE FROM schema_info WHERE key = 'migrated_by'")
    conn.exec_driver_sql(
        "INSERT INTO schema_info (key, value) VALUES ('migrated_by', %s)"
        if conn.dialect.name == "postgresql"
        else "INSERT INTO schema_info (key, value) VALUES ('migrated_by', ?)",
        (__version__,),
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creates it on an empty database).

    A database already at the newest revision is recognised with one query, without alembic.
    A schema newer than this release raises :class:`SchemaTooNew`. On PostgreSQL the
    upgrade holds an advisory lock, so instances starting together on an empty database
    migrate one after the other instead of racing on ``CREATE TABLE``.
    """
    try:
        with engine.connect() as conn:
            if _at_heads(conn):
                return
            refuse_newer(conn, engine.url)
        from alembic import command

        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(
                    "SELECT pg_advisory_xact_lock(hashtext('mention-monitor:migrate:' || current_schema()))"
                )
                if _at_heads(conn):  # another instance migrated while we waited
                    return
                refuse_newer(conn, engine.url)
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            from monitor.store.search import ensure_sqlite_triggers

            ensure_sqlite_triggers(conn)  # a later table rebuild (batch ALTER) drops the FTS triggers
            from monitor.store.inbox_counts import ensure_triggers

            ensure_triggers(conn)  # … and the inbox counts' triggers (recounted then)
            _record_release(conn)
    except StorageError:
        raise
    except DBAPIError as exc:
        raise StorageError(describe_error(exc, engine.url, what="cannot open the database at")) from exc


def insert_for(engine_or_session: Any) -> Any:
    """The dialect's ``insert`` that supports ``on_conflict_do_nothing/do_update``."""
    bind = engine_or_session.get_bind() if hasattr(engine_or_session, "get_bind") else engine_or_session
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    if bind.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert

        return insert
    raise StorageError(f"unsupported database {bind.dialect.name!r}: use SQLite or PostgreSQL")
