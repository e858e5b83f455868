"""``mention-monitor db upgrade|current|check`` and ``mention-monitor prune``: the schema and retention.

``db check`` is for deploy scripts: exit 0 when the schema is current, 1 when
migrations are pending, 3 when the database is unusable or newer than this
release. ``prune`` is a dry run unless ``--apply``: it shows how many raw payloads
and mentions are older than the cut-off, then (applied) empties the raw payloads
first and deletes the mentions after, in small transactions. Report roll-ups are
brought up to date before anything is deleted, so reports keep their figures;
open mentions and mentions with label corrections (training data) are kept.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORAGE = 0, 1, 2, 3
OPEN_STATUSES = ("new", "acknowledged")
BATCH = 1000


def add_arguments(sub: Any, add_db_args: Any) -> None:
    p = sub.add_parser(
        "db",
        help="database schema: upgrade, show the current revision, check for pending migrations",
        description="The daemon upgrades the schema at start; these commands do it by hand or check it "
        "from a deploy script (db check: exit 0 current, 1 pending, 3 unusable or newer).",
    )
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    for name, text in (
        ("upgrade", "apply pending migrations (safe with other instances starting at the same time)"),
        ("current", "show the database's schema revision and what this release knows"),
        ("check", "exit 1 when migrations are pending, 3 when the database is unusable or newer"),
    ):
        add_db_args(dbsub.add_parser(name, help=text, description=text))

    p = sub.add_parser(
        "prune",
        help="delete old raw payloads and mentions (dry run unless --apply)",
        description="Raw payloads first, then the mentions themselves, older than --older-than. Report "
        "roll-ups are updated first so reports keep their figures; open mentions and mentions with "
        "label corrections are kept. Without --apply only the counts are shown.",
    )
    add_db_args(p)
    p.add_argument("--older-than", required=True, help="age, e.g. 365d, 26w… (d, h, m units: 365d)")
    p.add_argument("--apply", action="store_true", help="really delete (default: show counts only)")
    p.add_argument(
        "--payloads-only", action="store_true", help="only empty the raw payloads; keep the mentions"
    )


def _url(args: argparse.Namespace) -> str:
    import os

    from monitor.config import load_config
    from monitor.store.location import default_database_url

    if getattr(args, "db", None):
        return args.db
    if getattr(args, "config", None):
        return load_config(args.config, check_targets=False).storage.url.get_secret_value()
    return os.environ.get("MENTION_MONITOR_DB") or default_database_url()


def _sqlite_missing(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).expanduser()
        return None if path.exists() else path
    return None


def _pending(conn: Any) -> tuple[set[str], list[str]]:
    """(stored revisions, revisions this release would still apply)."""
    import re

    from monitor.store import db

    depends = re.compile(r"^depends_on\b[^=]*=\s*(.+)$", re.M)
    parents: dict[str, list[str]] = {}
    for path in (db.MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = db._REVISION.search(text)
        if rev is None:
            continue
        # down_revision and depends_on both make a revision an ancestor (alembic drops it from the table).
        found = [db._DOWN.search(text), depends.search(text)]
        parents[rev.group(1)] = [p for f in found if f for p in db._LITERAL.findall(f.group(1))]
    stored_revisions = db.stored_revisions
    stored = stored_revisions(conn)
    applied: set[str] = set()
    todo = [r for r in stored if r in parents]
    while todo:
        r = todo.pop()
        if r not in applied:
            applied.add(r)
            todo.extend(parents.get(r, []))
    return stored, sorted(set(parents) - applied)


def handle_db(args: argparse.Namespace, out: Any, err: Any) -> int:
    from monitor.store.db import heads_text, make_engine, masked_url, migrate, refuse_newer

    url = _url(args)
    shown = masked_url(url)
    missing = _sqlite_missing(url)
    if missing is not None and args.db_command != "upgrade":
        out.print(f"{shown}: no database file yet ({missing}); `mention-monitor db upgrade` creates it")
        return EXIT_FAILED if args.db_command == "check" else EXIT_OK
    engine = make_engine(url)
    try:
        if args.db_command == "upgrade":
            with engine.connect() as conn:
                _, before = _pending(conn)
            migrate(engine)
            done = ", ".join(before) or "nothing to do"
            out.print(f"{shown}: schema at {heads_text()} (applied: {done})", markup=False)
            return EXIT_OK
        with engine.connect() as conn:
            refuse_newer(conn, engine.url)
            stored, pending = _pending(conn)
        current = ", ".join(sorted(stored)) or "empty (no schema yet)"
        out.print(
            f"{shown}: schema revision {current}; this release knows up to {heads_text()}", markup=False
        )
        if pending:
            out.print(
                f"{len(pending)} migration(s) pending: {', '.join(pending)} — run "
                "`mention-monitor db upgrade` (the daemon also applies them at start)",
                markup=False,
            )
            return EXIT_FAILED if args.db_command == "check" else EXIT_OK
        out.print("up to date", markup=False)
        return EXIT_OK
    finally:
        engine.dispose()


def handle_prune(args: argparse.Namespace, out: Any, err: Any) -> int:
    from sqlalchemy import and_, delete, func, not_, select, update

    from monitor.store import models as m
    from monitor.store.db import make_engine, masked_url, migrate
    from monitor.store.queries import parse_since

    try:
        cutoff = parse_since(args.older_than)
    except ValueError:
        err.print(f"--older-than {args.older_than!r}: use an age like 365d or 8760h", markup=False)
        return EXIT_USAGE
    if cutoff > datetime.now(UTC):
        err.print("--older-than must be an age in the past, e.g. 365d", markup=False)
        return EXIT_USAGE
    url = _url(args)
    engine = make_engine(url)
    migrate(engine)
    mt = m.Mention.__table__
    corrected = select(m.LabelCorrection.__table__.c.mention_id)
    old = mt.c.created_at < cutoff
    removable = and_(old, mt.c.status.not_in(OPEN_STATUSES), not_(mt.c.id.in_(corrected)))
    with engine.connect() as conn:
        payloads = conn.execute(select(func.count()).select_from(mt).where(old, _has_raw(mt))).scalar() or 0
        mentions = conn.execute(select(func.count()).select_from(mt).where(removable)).scalar() or 0
        kept_open = (
            conn.execute(
                select(func.count()).select_from(mt).where(old, mt.c.status.in_(OPEN_STATUSES))
            ).scalar()
            or 0
        )
    when = f"{cutoff:%Y-%m-%d %H:%M} UTC"
    out.print(f"{masked_url(url)}: before {when}", markup=False)
    out.print(f"  raw payloads to empty: {payloads}", markup=False)
    if not args.payloads_only:
        out.print(f"  mentions to delete:    {mentions} (with their alerts, deliveries and audit events)")
        out.print(f"  kept: {kept_open} open mention(s) and every mention with a label correction")
    if not args.apply:
        out.print("dry run: nothing changed; add --apply to do it", markup=False)
        return EXIT_OK
    _roll_up(args, engine)
    emptied = 0
    while True:  # 1. raw payloads (the bulk of the bytes)
        with engine.begin() as conn:
            ids = conn.execute(select(mt.c.id).where(old, _has_raw(mt)).limit(BATCH)).scalars().all()
            if ids:
                conn.execute(update(mt).where(mt.c.id.in_(ids)).values(raw={}))
        emptied += len(ids)
        if len(ids) < BATCH:
            break
    deleted = 0
    if not args.payloads_only:
        a, d, ev = m.AlertOutbox.__table__, m.AlertDelivery.__table__, m.Event.__table__
        while True:  # 2. the mentions, with what hangs off them
            with engine.begin() as conn:
                ids = conn.execute(select(mt.c.id).where(removable).limit(BATCH)).scalars().all()
                if ids:
                    alert_ids = select(a.c.id).where(a.c.mention_id.in_(ids))
                    conn.execute(delete(d).where(d.c.alert_id.in_(alert_ids)))
                    conn.execute(delete(a).where(a.c.mention_id.in_(ids)))
                    conn.execute(delete(ev).where(ev.c.mention_id.in_(ids)))
                    conn.execute(delete(mt).where(mt.c.id.in_(ids)))
            deleted += len(ids)
            if len(ids) < BATCH:
                break
        with engine.begin() as conn:  # alerts about no mention (incidents, digests, operators) age out too
            stale = select(a.c.id).where(a.c.mention_id.is_(None), a.c.created_at < cutoff)
            conn.execute(delete(d).where(d.c.alert_id.in_(stale), d.c.status.not_in(("pending", "sending"))))
            conn.execute(
                delete(a).where(
                    a.c.mention_id.is_(None),
                    a.c.created_at < cutoff,
                    not_(a.c.id.in_(select(d.c.alert_id))),
                )
            )
            gaps = m.CoverageGap.__table__
            conn.execute(delete(gaps).where(gaps.c.end.is_not(None), gaps.c.end < cutoff))
    out.print(f"done: {emptied} raw payload(s) emptied, {deleted} mention(s) deleted", markup=False)
    if engine.dialect.name == "sqlite":
        out.print("the file shrinks after `sqlite3 FILE 'VACUUM'` (with the daemon stopped)", markup=False)
    engine.dispose()
    return EXIT_OK


def _has_raw(mt: Any) -> Any:
    from sqlalchemy import String, cast

    # JSON '{}' compares as text on both SQLite and PostgreSQL (JSONB renders '{}').
    return cast(mt.c.raw, String).not_in(("{}", "null"))


def _roll_up(args: argparse.Namespace, engine: Any) -> None:
    """Bring report roll-ups up to date first, so deleting mentions does not change reports."""
    try:
        from monitor.reports.rollup import catch_up
        from monitor.reports.settings import ReportSettings
    except ImportError:
        return
    if getattr(args, "config", None):
        from monitor.config import load_config

        settings = ReportSettings.from_config(load_config(args.config, check_targets=False)).rollup
    else:
        settings = ReportSettings().rollup
    done = catch_up(engine, settings)
    print(f"report roll-ups brought up to date ({done.mentions} mention(s) read)", file=sys.stderr)
