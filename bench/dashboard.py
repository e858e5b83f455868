"""Dashboard speed: p50/p95 server time per page at N stored mentions, on SQLite and PostgreSQL.

    python bench/dashboard.py                 # 1,000,000 mentions, both databases (takes a while)
    python bench/dashboard.py --n 50000 --db sqlite
    python bench/dashboard.py --n 1000000 --keep /var/tmp/mm-bench   # reuse the seeded stores later
    python bench/dashboard.py --url sqlite:////var/tmp/me/dashboard-1000000.db --pages reports

``--url`` measures an already-seeded store (no seeding; it is migrated and its roll-ups caught
up, so point it at your own copy, not a shared one), with "now" the newest mention's time
unless ``--now`` says otherwise; ``--pages`` picks the inbox pages, the report pages or all, and
``--only`` narrows them to the pages whose name contains one of its comma-separated words
(e.g. ``--only "by urgency,search"``) and ``--skip`` leaves out those whose name contains one
(``--skip "(total)"``: the whole-export pages take minutes each at 1M).

Seeds N mentions through the project's own tables and migrations (``bench/seed.py``; spread
over ``--days``, older ones mostly handled, first responses by four agents in two teams), adds
a few coverage gaps, runs the reports' roll-up catch-up once (timed), then requests every
page through the real app (FastAPI in-process over ASGI, logged in as a manager): the inbox
(plain, filtered, searched), mention pages, the reports (all and each, 7 and 30 days) and
their CSV/JSON exports. Each page is asked ``--repeat`` times after one warm-up; the
table shows p50/p95 of the time from request to full response body. PostgreSQL runs in a
throwaway schema of the local ``test`` database, dropped afterwards.
The target (issue 10): p95 < 150 ms for every page at 1,000,000 mentions.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PG_BASE = os.environ.get("MENTION_MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEAMS = {"alice": "emea", "bob": "emea", "chen": "americas", "dana": "americas"}
TARGET_MS = 150.0
PAGE_BUDGET_S = 15.0  # stop sampling a page after this long (it then has fewer than --repeat samples)
ONLY: tuple[str, ...] = ()  # --only: measure just the pages whose name contains one of these
SKIP: tuple[str, ...] = ()  # --skip: leave out the pages whose name contains one of these


def _pages(mention_ids: list[int], group: str = "all") -> list[tuple[str, str]]:
    """(label, path) of every page measured; mention pages rotate over ``mention_ids``.

    ``group`` picks the inbox pages (inbox, mention page, inbox export), the report pages
    (every report page and export) or all of them.
    """
    inbox = [
        ("inbox", "/"),
        ("inbox: most urgent first", "/?sort=urgency"),
        ("inbox: page 2 (keyset)", "page2:/"),
        ("inbox: page 2 by urgency", "page2:/?sort=urgency"),
        ("inbox: platform=reddit", "/?platform=reddit"),
        ("inbox: label=spam", "/?label=spam"),
        ("inbox: priority=P1", "/?priority=P1"),
        ("inbox: status=open", "/?status=open"),
        ("inbox: assignee=alice", "/?assignee=alice"),
        ("inbox: claimed by nobody", "/?claimed_by=-"),
        ("inbox: author", "author"),
        ("inbox: last 7 days", "/?since=7d"),
        ("inbox: complaints, P1", "/?label=complaint&priority=P1"),
        ("inbox: complaints, P1, page 2", "page2:/?label=complaint&priority=P1"),
        ("inbox: question, P2, new, by urgency", "/?label=question&priority=P2&status=new&sort=urgency"),
        ("inbox: praise by urgency", "/?label=praise&sort=urgency"),
        ("inbox: complaints, open, by urgency", "/?label=complaint&status=open&sort=urgency"),
        ("inbox: search by urgency", "/?q=refund&sort=urgency"),
        ("inbox: resolved, alice, reddit", "/?status=resolved&assignee=alice&platform=reddit"),
        ("inbox: spam, P1, last 30 days", "/?label=spam&priority=P1&since=30d"),
        ("inbox: severity=severe", "/?severity=severe"),
        ("inbox: complaints, mild, open", "/?label=complaint&severity=mild&status=open"),
        ("inbox: moderate, reddit, nobody", "/?severity=moderate&platform=reddit&assignee=-"),
        ("inbox: search", "/?q=refund"),
        ("inbox: search, a word no post has", "/?q=zzqxv"),
        ("inbox: search, complaints", "/?q=refund&label=complaint"),
        ("inbox: live-update poll", "/inbox/poll?after=0"),
        ("mention page", "mention"),
        ("mention page (alerts, replies, notes)", "story"),
    ]
    pages = [
        ("reports: all (7d)", "/reports"),
        ("reports: all (30d)", "/reports?range=30d"),
        ("reports: all (90d)", "/reports?range=90d"),
    ]
    for name in ("volume", "response", "open", "topics", "complainers", "recovery"):
        for span in ("7d", "30d", "90d"):
            pages.append((f"report {name} ({span})", f"/reports/{name}?range={span}"))
    for name in ("volume", "response", "complainers"):
        pages.append((f"export {name}.csv (30d)", f"/reports/{name}.csv?range=30d"))
        pages.append((f"export {name}.json (30d)", f"/reports/{name}.json?range=30d"))
    pages.append(("reports: all (400 days, from/to)", "/reports?{400d}"))
    pages.append(("report volume (90d, one platform)", "/reports/volume?range=90d&platform=reddit"))
    pages.append(("report complainers (90d, one platform)", "/reports/complainers?range=90d&platform=reddit"))
    tail = [
        ("inbox export.csv: first byte", "ttfb:/inbox/export.csv"),
        ("inbox export.csv: all rows (total)", "/inbox/export.csv"),
        ("inbox export.json, complaints (total)", "/inbox/export.json?label=complaint"),
    ]
    chosen = {"inbox": inbox + tail, "reports": pages}.get(group, inbox + pages + tail)
    return [
        p
        for p in chosen
        if (not ONLY or any(word in p[0] for word in ONLY)) and not any(word in p[0] for word in SKIP)
    ]


def _prepare(url: str, n: int, days: float, now: datetime) -> dict[str, Any]:
    """Seed (unless the store already holds ``n`` mentions), add gaps, roll up; returns timings."""
    from sqlalchemy import case, func, select, update

    from bench.seed import seed
    from monitor.reports.rollup import catch_up
    from monitor.reports.settings import ReportSettings
    from monitor.store import models as m
    from monitor.store.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    t = m.Mention.__table__
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(t)).scalar_one()
    figures: dict[str, Any] = {"seed_s": None}
    if have < n:
        print(f"  seeding {n - have:,} mentions…", file=sys.stderr, flush=True)
        figures["seed_s"] = seed(url, n - have, days=days, now=now, tag=f"b{have}", progress=True)["seconds"]
        agents = list(TEAMS)
        with engine.begin() as conn:
            # Who sent each first response (the responder records it; the seed leaves it empty).
            conn.execute(
                update(t)
                .where(t.c.first_response_at.is_not(None), t.c.first_responder.is_(None))
                .values(
                    first_responder=case(
                        *[(t.c.id % len(agents) == i, name) for i, name in enumerate(agents)],
                        else_=agents[0],
                    )
                )
            )
            g = m.CoverageGap.__table__
            c = m.SourceCursor.__table__
            for platform in ("x", "reddit"):
                if conn.execute(select(c.c.source).where(c.c.source == platform)).first() is None:
                    conn.execute(c.insert().values(source=platform, platform=platform))
            conn.execute(
                g.insert(),
                [
                    {
                        "source": "x",
                        "start": now - timedelta(days=2, hours=3),
                        "end": now - timedelta(days=2),
                        "reason": "rate limited (429)",
                        "estimated_missed": None,
                    },
                    {
                        "source": "reddit",
                        "start": now - timedelta(days=9),
                        "end": now - timedelta(days=8, hours=20),
                        "reason": "server errors",
                        "estimated_missed": 120,
                    },
                ],
            )
    if engine.dialect.name == "postgresql":
        # What autovacuum does on a live server: planner statistics and the visibility map
        # (index-only scans). Right after a bulk load neither exists yet.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            tables = ", ".join(t.name for t in m.Mention.metadata.sorted_tables)
            conn.exec_driver_sql(f"VACUUM ANALYZE {tables}")  # this schema's tables only
    settings = ReportSettings(teams=TEAMS)
    started = time.perf_counter()
    done = catch_up(engine, settings.rollup)
    figures["rollup_s"] = time.perf_counter() - started
    figures["rolled"] = done.mentions
    if engine.dialect.name == "postgresql":
        # The roll-up tables it just filled get what autovacuum would give them too.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            tables = ", ".join(
                t.name for t in m.Mention.metadata.sorted_tables if t.name.startswith("report_")
            )
            conn.exec_driver_sql(f"VACUUM ANALYZE {tables}")
    with engine.connect() as conn:
        figures["mentions"] = conn.execute(select(func.count()).select_from(t)).scalar_one()
        figures["ids"] = [r[0] for r in conn.execute(select(t.c.id).order_by(t.c.id.desc()).limit(2000))]
    _add_stories(engine, figures["ids"], now)
    engine.dispose()
    return figures


def _measure(
    url: str, repeat: int, mention_ids: list[int], now_fn: Any, group: str = "all"
) -> dict[str, tuple[float, float, int]]:
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from monitor.brand import BrandSettings
    from monitor.config import Config, DashboardSettings, DashboardUser
    from monitor.store.db import make_engine
    from monitor.web.app import create_app
    from monitor.web.auth import SESSION_COOKIE, hash_password, make_session

    users = {
        "bench": DashboardUser(password_hash=SecretStr(hash_password("bench-password")), role="manager"),
        **{
            name: DashboardUser(password_hash=SecretStr(hash_password("x-password")), team=team)
            for name, team in TEAMS.items()
        },
    }
    config = Config(
        brand=BrandSettings(names=["Acme"]),
        dashboard=DashboardSettings(users=users, secret_key=SecretStr("b" * 40)),
    )
    engine = make_engine(url)
    app = create_app(config, engine, clock=now_fn)
    rng = random.Random(3)
    out: dict[str, tuple[float, float, int]] = {}
    counts: dict[str, int] = {}
    stories, author = _story_ids(engine), _busy_author(engine)
    with TestClient(app) as client:
        client.cookies.set(SESSION_COOKIE, make_session(app.state.ctx, "bench", now_fn()))
        for label, path in _pages(mention_ids, group):
            times: list[float] = []
            status = 0
            spent = 0.0
            if "{400d}" in path:  # the longest period the form takes: from/to dates 400 days apart
                last = now_fn().date()
                path = path.replace("{400d}", f"from={last - timedelta(days=399)}&to={last}")
            if path.startswith("page2:"):  # the first page's "Older" link (a keyset cursor)
                found = re.search(r'href="(/\?[^"]*after=[^"]+)"', client.get(path[6:]).text)
                path = html.unescape(found.group(1)) if found else path[6:]
            for i in range(repeat + 1):
                if spent > PAGE_BUDGET_S and (i > 3 or (i > 1 and label.endswith("(total)"))):
                    break  # a slow page (a big export) gets fewer samples, not minutes
                target = {
                    "mention": f"/mentions/{rng.choice(mention_ids)}",
                    "story": f"/mentions/{rng.choice(stories or mention_ids)}",
                    "author": f"/?author={author}",
                }.get(path, path.removeprefix("ttfb:"))
                started = time.perf_counter()
                with client.stream("GET", target) as resp:
                    chunks = resp.iter_bytes()
                    if path.startswith("ttfb:"):  # time to the first chunk; then hang up, as a client may
                        next(chunks, b"")
                        elapsed = (time.perf_counter() - started) * 1000
                    else:
                        for _chunk in chunks:
                            pass
                if not path.startswith("ttfb:"):
                    elapsed = (time.perf_counter() - started) * 1000
                spent += elapsed / 1000
                status = resp.status_code
                if status != 200:
                    break
                if i:  # the first is a warm-up (template compile, caches)
                    times.append(elapsed)
            counts[label] = len(times)
            if status != 200 or not times:
                out[label] = (float("nan"), float("nan"), status)
                continue
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            out[label] = (statistics.median(times), p95, status)
    short = {k: v for k, v in counts.items() if v < repeat}
    if short:
        print(f"  fewer samples (slow pages): {short}", file=sys.stderr)
    engine.dispose()
    return out


def _story_ids(engine: Any) -> list[int]:
    """Mentions with alerts, deliveries, replies and an audit trail (added by :func:`_add_stories`)."""
    from sqlalchemy import select

    from monitor.store import models as m

    ao = m.AlertOutbox.__table__
    with engine.connect() as conn:
        q = select(ao.c.mention_id).where(ao.c.key.like("bench-story-%")).distinct().limit(500)
        return [r[0] for r in conn.execute(q)]


def _busy_author(engine: Any) -> str:
    """The author of the newest mention (an author filter in the inbox)."""
    from sqlalchemy import select

    from monitor.store import models as m

    t = m.Mention.__table__
    with engine.connect() as conn:
        return conn.execute(select(t.c.author_handle).order_by(t.c.id.desc()).limit(1)).scalar() or "nobody"


def _add_stories(engine: Any, ids: list[int], now: datetime) -> int:
    """Give every tenth of ``ids`` what a handled mention has: two alerts delivered to two places,
    a sent reply, notes and an audit trail (once per store; the seed leaves these tables empty)."""
    from sqlalchemy import func, select

    from monitor.store import models as m

    ao, ad = m.AlertOutbox.__table__, m.AlertDelivery.__table__
    rt, ev = m.ReplyOutbox.__table__, m.Event.__table__
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(ao).where(ao.c.key.like("bench-story-%"))).scalar():
            return 0
        picked = ids[::10][:200]
        for mid in picked:
            for k, route in enumerate(("complaints", "vip")):
                alert = conn.execute(
                    ao.insert().values(
                        key=f"bench-story-{mid}-{k}",
                        mention_id=mid,
                        route=route,
                        created_at=now,
                        kind="mention",
                    )
                ).inserted_primary_key[0]
                conn.execute(
                    ad.insert(),
                    [
                        {
                            "alert_id": alert,
                            "destination": d,
                            "status": "delivered",
                            "attempts": 1,
                            "delivered_at": now,
                            "log": [],
                        }
                        for d in ("slack", "email")
                    ],
                )
            conn.execute(
                rt.insert().values(
                    key=f"bench-story-{mid}",
                    mention_id=mid,
                    body="Sorry about that, we are on it.",
                    author="alice",
                    status="sent",
                    created_at=now,
                    sent_at=now,
                    log=[],
                )
            )
            conn.execute(
                ev.insert(),
                [
                    {"mention_id": mid, "action": a, "actor": "alice", "at": now, "detail": {}}
                    for a in ("claim", "acknowledge", "note", "assign", "reply", "note")
                ],
            )
    return len(picked)


def _pg_schema(keep: str | None) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text

    name = f"bench_{keep}" if keep else f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'create schema if not exists "{name}"'))

    def drop() -> None:
        if keep:
            return
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{name}" cascade'))

    return f"{PG_BASE}?options=-csearch_path%3D{name}", drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="stored mentions (default 1,000,000)")
    parser.add_argument("--days", type=float, default=180.0, help="spread them over this many days")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (after one warm-up)")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the seeded stores (SQLite file in DIR, PostgreSQL schema) for reruns",
    )
    parser.add_argument(
        "--url",
        help="measure this already-seeded store (SQLAlchemy URL; it gets migrated and rolled up: use a copy)",
    )
    parser.add_argument("--pages", choices=("all", "inbox", "reports"), default="all", help="which pages")
    parser.add_argument(
        "--now", help="with --url: the time the store was seeded at (ISO; default: newest mention)"
    )
    parser.add_argument(
        "--only", help="only the pages whose name contains one of these comma-separated words"
    )
    parser.add_argument("--skip", help="leave out the pages whose name contains one of these words")
    args = parser.parse_args()
    global ONLY, SKIP
    ONLY = tuple(w.strip() for w in (args.only or "").split(",") if w.strip())
    SKIP = tuple(w.strip() for w in (args.skip or "").split(",") if w.strip())
    if args.url:
        return _measure_url(args)
    now = datetime.now(UTC).replace(microsecond=0)
    results: dict[str, dict[str, tuple[float, float, int]]] = {}
    notes: list[str] = []
    tmp = tempfile.TemporaryDirectory(prefix="mm-bench-")
    folder = Path(args.keep) if args.keep else Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    targets = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    for db in targets:
        drop = None
        if db == "sqlite":
            url = f"sqlite:///{folder / f'dashboard-{args.n}.db'}"
        else:
            url, drop = _pg_schema(f"{args.n}" if args.keep else None)
        print(f"{db}: preparing {args.n:,} mentions", file=sys.stderr, flush=True)
        try:
            figures = _prepare(url, args.n, args.days, now)
            seeded = f"seeded in {figures['seed_s']:.0f} s, " if figures["seed_s"] else ""
            notes.append(
                f"{db}: {figures['mentions']:,} mentions; {seeded}first roll-up of "
                f"{figures['rolled']:,} mentions {figures['rollup_s']:.1f} s"
            )
            results[db] = _measure(url, args.repeat, figures["ids"], lambda: now, args.pages)
        finally:
            if drop:
                drop()
    print(
        f"\nDashboard server time at {args.n:,} mentions over {args.days:g} days (ms, {args.repeat} requests)"
    )
    worst = _table(results, targets, args.pages, notes)
    tmp.cleanup()
    return 0 if worst < TARGET_MS else 1


def _measure_url(args: argparse.Namespace) -> int:
    """``--url``: no seeding; migrate, catch the roll-ups up (timed) and measure the pages."""
    from sqlalchemy import func, select

    from monitor.store import models as m
    from monitor.store.db import make_engine

    engine = make_engine(args.url)
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(m.Mention.__table__.c.created_at))).scalar()
    engine.dispose()
    if args.now:
        now = datetime.fromisoformat(args.now)
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    elif newest is not None:
        now = (newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest).replace(microsecond=0)
        now += timedelta(seconds=1)
    else:
        print(f"{args.url}: no mentions stored; seed it first (--keep DIR)", file=sys.stderr)
        return 2
    db = "postgres" if args.url.startswith("postgresql") else "sqlite"
    print(f"{db}: {args.url} at now={now.isoformat()}", file=sys.stderr, flush=True)
    figures = _prepare(args.url, 0, args.days, now)
    notes = [
        f"{db}: {figures['mentions']:,} mentions; roll-up catch-up of {figures['rolled']:,} mentions "
        f"{figures['rollup_s']:.1f} s"
    ]
    results = {db: _measure(args.url, args.repeat, figures["ids"], lambda: now, args.pages)}
    print(f"\nDashboard server time at {figures['mentions']:,} mentions (ms, {args.repeat} requests)")
    worst = _table(results, (db,), args.pages, notes)
    return 0 if worst < TARGET_MS else 1


def _table(
    results: dict[str, dict[str, tuple[float, float, int]]],
    targets: tuple[str, ...],
    group: str,
    notes: list[str],
) -> float:
    """Print the p50/p95 table; returns the worst p95."""
    labels = [label for label, _ in _pages([1], group)]
    head = f"{'page':<40}" + "".join(f"{db + ' p50':>13}{db + ' p95':>13}" for db in targets)
    print(head)
    print("-" * len(head))
    worst = 0.0
    for label in labels:
        cells = ""
        for db in targets:
            p50, p95, status = results[db][label]
            if status != 200:
                cells += f"{'HTTP ' + str(status):>26}"
                continue
            if label.endswith("(total)"):  # a whole export streams: no 150 ms target, see its first byte
                cells += f"{p50:>13.1f}{p95:>11.1f}  "
                continue
            worst = max(worst, p95)
            flag = " !" if p95 >= TARGET_MS else "  "
            cells += f"{p50:>13.1f}{p95:>11.1f}{flag}"
        print(f"{label:<40}{cells}")
    for note in notes:
        print(note)
    print(
        f"worst p95 {worst:.1f} ms; target p95 < {TARGET_MS:.0f} ms "
        f"({'met' if worst < TARGET_MS else 'NOT met'})"
    )
    return worst


if __name__ == "__main__":
    sys.exit(main())
