"""Seed a store with N triaged mentions fast, for benches at 100k–1M (SQLite or PostgreSQL).

    python bench/seed.py --db sqlite:////tmp/m1m.db --count 1000000
    python bench/seed.py --db postgresql+psycopg://127.0.0.1/test --count 100000 --days 90

The rows are what the pipeline stores: the simulated platform's texts are triaged once by the
real :class:`~monitor.triage.Triager` (a pool of ``--pool`` distinct posts), then repeated
across N mentions with their own ids, authors, platforms and times spread over ``--days``
(ids ascend with time, as live ingest makes them). Older mentions are mostly resolved or
ignored, the last two days are mostly new; some are assigned. The author table gets one row
per (platform, handle) with its counters, like the pipeline's upsert. Inserts are
``executemany`` in chunks of ``--chunk`` rows, one transaction each, through the project's own
tables and migrations (so the full-text index of migration 0006 is filled by its triggers /
expression index, exactly as for live data).

Use it from other benches: ``from bench.seed import seed`` or run it as a script. It appends;
run it on a fresh file (or pass ``--tag`` to add a second batch with other ids).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PLATFORMS = ("mastodon", "bluesky", "reddit", "hackernews", "x")
ASSIGNEES = ("alice", "bob", "chen", "dana")


def _pool(size: int, brand: str) -> list[tuple[Any, Any]]:
    """``size`` simulated mentions, each with the real triage verdict for it."""
    from monitor.brand import BrandSettings
    from monitor.sources.simulated import SimulatedSource
    from monitor.triage import TriageContext, Triager, TriageSettings

    brand_settings = BrandSettings(names=[brand])
    src = SimulatedSource("seed", SimulatedSource.Settings(), brand_settings)
    triager = Triager(TriageSettings(), brand_terms=brand_settings.terms)
    now = datetime.now(UTC)
    out = []
    n = 0
    while len(out) < size:
        mention = src.make(n, now=now)
        n += 1
        if mention is None or mention.author_handle == src._handle:  # reposts and own posts are filtered
            continue
        out.append((mention, triager.assess(mention, TriageContext())))
    return out


def _sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy stores it on SQLite (UTCDateTime: naive UTC text; JSON: text)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value


def seed(
    url: str,
    count: int,
    *,
    days: float = 365.0,
    pool: int = 4000,
    chunk: int = 20_000,
    tag: str = "seed",
    brand: str = "Acme",
    now: datetime | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Insert ``count`` mentions (and their authors) into the database at ``url``; returns figures."""
    from monitor.store import models as m
    from monitor.store.db import insert_for, make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    now = now or datetime.now(UTC)
    rng = random.Random(7)
    triaged = _pool(pool, brand)
    start_at = now - timedelta(days=days)
    step = (now - start_at) / max(count, 1)
    n_authors = max(count // 5, 10)
    mention_t = m.Mention.__table__
    sqlite = engine.dialect.name == "sqlite"
    cols: list[str] = []
    sql = ""
    authors: dict[tuple[str, str], dict[str, Any]] = {}
    started = time.perf_counter()
    done = 0
    while done < count:
        rows = []
        if not cols:
            cols = [c.name for c in mention_t.columns if c.name != "id"]
            defaults = {
                c.name: c.default.arg for c in mention_t.columns if c.default is not None and c.name != "id"
            }
            sql = f"INSERT INTO mention ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        for i in range(done, min(done + chunk, count)):
            mention, verdict = triaged[rng.randrange(len(triaged))]
            platform = PLATFORMS[i % len(PLATFORMS)]
            created = start_at + step * i + timedelta(seconds=rng.random())
            handle = f"{mention.author_handle.split('_')[0]}_{rng.randrange(n_authors)}"
            age = now - created
            if age > timedelta(days=2):
                status = rng.choices(
                    ("resolved", "ignored", "replied", "acknowledged", "new"), (70, 15, 8, 4, 3)
                )[0]
            else:
                status = rng.choices(("new", "acknowledged", "replied", "resolved"), (70, 15, 8, 7))[0]
            handled = status != "new"
            ack_at = created + timedelta(minutes=rng.randint(1, 600)) if handled else None
            rows.append(
                {
                    "platform": platform,
                    "external_id": f"{tag}-{i}",
                    "source": platform,
                    "url": f"https://{platform}.example/{tag}/{i}",
                    "author_handle": handle,
                    "author_name": handle.replace("_", " ").title(),
                    "author_id": f"u{handle}",
                    "author_followers": mention.author_followers,
                    "text": mention.text,
                    "language": mention.language,
                    "created_at": created,
                    "fetched_at": created + timedelta(seconds=30),
                    "in_reply_to_id": None,
                    "conversation_id": f"{tag}-c{i // 3}",
                    "addressed_to_brand": mention.addressed_to_brand,
                    "raw": {"id": f"{tag}-{i}", "seeded": True},
                    "polarity": verdict.polarity,
                    "subjectivity": verdict.subjectivity,
                    "label": verdict.label,
                    "urgency": verdict.urgency,
                    "priority": verdict.priority,
                    "severity": verdict.severity,  # a complaint's (the inbox's severity views need it)
                    "reasons": list(verdict.reasons),
                    "status": status,
                    "assignee": rng.choice(ASSIGNEES) if handled and rng.random() < 0.4 else None,
                    "acknowledged_at": ack_at,
                    "first_response_at": ack_at if status in ("replied", "resolved") else None,
                    "resolved_at": ack_at + timedelta(hours=1) if status == "resolved" and ack_at else None,
                    "updated_at": ack_at or created,
                }
            )
            for name, default in defaults.items():  # columns other features add (version, …)
                if name not in rows[-1]:
                    rows[-1][name] = default(None) if callable(default) else default
            a = authors.get((platform, handle))
            if a is None:
                a = authors[(platform, handle)] = {
                    "platform": platform,
                    "handle": handle,
                    "author_id": f"u{handle}",
                    "name": handle.replace("_", " ").title(),
                    "followers": mention.author_followers,
                    "mentions_total": 0,
                    "complaints_total": 0,
                    "first_seen_at": created,
                    "last_mention_at": created,
                    "last_complaint_at": None,
                    "recent_complaints": [],
                }
            a["mentions_total"] += 1
            a["last_mention_at"] = created
            if verdict.label == "complaint":
                a["complaints_total"] += 1
                a["last_complaint_at"] = created
        with engine.begin() as conn:
            if sqlite:
                # Straight to the driver: SQLAlchemy's per-value bind processing is most of the cost.
                conn.exec_driver_sql(sql, [tuple(_sqlite_value(r.get(c)) for c in cols) for r in rows])
            else:
                conn.execute(mention_t.insert(), rows)
        done += len(rows)
        if progress:
            rate = done / (time.perf_counter() - started)
            print(f"\r{done:>10,} mentions ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    author_t = m.Author.__table__
    insert = insert_for(engine)(author_t)
    ex = insert.excluded
    upsert = insert.on_conflict_do_update(
        index_elements=["platform", "handle"],
        set_={
            "mentions_total": author_t.c.mentions_total + ex.mentions_total,
            "complaints_total": author_t.c.complaints_total + ex.complaints_total,
            "last_mention_at": ex.last_mention_at,
        },
    )
    values = list(authors.values())
    for s in range(0, len(values), chunk):
        with engine.begin() as conn:
            conn.execute(upsert, values[s : s + chunk])
    if progress:
        print(file=sys.stderr)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"mentions": count, "authors": len(authors), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", required=True, help="database URL (sqlite:////path.db or postgresql+psycopg://…)"
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=365.0, help="spread the mentions over this many days")
    parser.add_argument("--pool", type=int, default=4000, help="distinct triaged posts to draw from")
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per transaction")
    parser.add_argument("--tag", default="seed", help="external id prefix (a second batch needs another)")
    args = parser.parse_args()
    figures = seed(
        args.db, args.count, days=args.days, pool=args.pool, chunk=args.chunk, tag=args.tag, progress=True
    )
    print(
        f"seeded {figures['mentions']:,} mentions and {figures['authors']:,} authors "
        f"in {figures['seconds']:.1f} s ({figures['mentions'] / figures['seconds']:,.0f} mentions/s)"
    )


if __name__ == "__main__":
    main()
