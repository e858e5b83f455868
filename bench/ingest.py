"""Ingest benchmark: mentions/s through the whole pipeline vs TextBlob alone, and peak RSS.

    python bench/ingest.py                 # 10k and 100k mentions
    python bench/ingest.py --sizes 10000   # quicker

Each case runs in its own process (so peak RSS is that case's own) on one core.
The pipeline case is: simulated source → normalize → dedupe → triage → SQLite
store (WAL, one transaction per page of 500) → routing, through the real
SourceRunner. The ceiling is TextBlob polarity alone over the same texts, with
the analyzer reused: target, pipeline ≥ 1/4 of it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _texts(n: int) -> list[str]:
    from datetime import UTC, datetime

    from monitor.brand import BrandSettings
    from monitor.sources.simulated import SimulatedSource

    src = SimulatedSource("bench", SimulatedSource.Settings(), BrandSettings(names=["Acme"]))
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        mention = src.make(i, now=now)
        if mention is not None:
            out.append(mention.text)
    return out


def case_textblob(n: int) -> dict:
    from textblob.en.sentiments import PatternAnalyzer

    texts = _texts(n)
    analyzer = PatternAnalyzer()
    start = time.perf_counter()
    for text in texts:
        analyzer.analyze(text)
    elapsed = time.perf_counter() - start
    return {"items": len(texts), "seconds": elapsed}


PG_BASE = os.environ.get("MENTION_MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def case_pipeline(n: int) -> dict:
    if os.environ.get("BENCH_DB") == "postgres":
        return _on_postgres(n)
    return _pipeline(n, None)


def _on_postgres(n: int) -> dict:
    """The same case on PostgreSQL, in a throwaway schema of the local test server."""
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    try:
        return _pipeline(n, f"{PG_BASE}?options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def _pipeline(n: int, pg_url: str | None) -> dict:
    from sqlalchemy import func, select, text

    from monitor.config import parse_config
    from monitor.pipeline import Pipeline
    from monitor.scheduler import SourceRunner
    from monitor.sources.simulated import SimulatedSource
    from monitor.store import models as m
    from monitor.store.db import make_engine, migrate

    with tempfile.TemporaryDirectory() as tmp:
        url = pg_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        config = parse_config(
            {
                "brand": {"names": ["Acme"], "handles": {"simulated": ["acme"]}},
                "sources": {"simulated": {"per_poll": 500, "total": n, "interval": 1}},
                "alerts": {
                    "routes": [
                        {"name": "urgent", "match": {"priority": "P1"}, "notify": ["json://127.0.0.1:9/x"]}
                    ]
                },
                "storage": {"url": url},
            }
        )
        engine = make_engine(url)
        migrate(engine)
        pipeline = Pipeline(engine, config)
        source = SimulatedSource("simulated", config.sources["simulated"], config.brand)
        runner = SourceRunner("simulated", source, pipeline, engine)
        fetched = 0
        start = time.perf_counter()
        while True:
            outcome = runner.poll()
            fetched += outcome.result.fetched
            if outcome.error:
                raise RuntimeError(outcome.error)
            if outcome.pages == 0 or outcome.result.fetched == 0:
                break
        elapsed = time.perf_counter() - start
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(m.Mention.__table__)).scalar()
            alerts = conn.execute(select(func.count()).select_from(m.AlertOutbox.__table__)).scalar()
            if pg_url:
                size = int(
                    conn.execute(
                        text(
                            "select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n "
                            "on n.oid = c.relnamespace where n.nspname = current_schema() and c.relkind = 'r'"
                        )
                    ).scalar()
                    or 0
                )
        if not pg_url:
            size = sum(f.stat().st_size for f in Path(tmp).glob("bench.db*"))
        engine.dispose()
    return {"items": fetched, "stored": stored, "alerts": alerts, "seconds": elapsed, "db_bytes": size}


def child(kind: str, n: int) -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    result = {"textblob": case_textblob, "pipeline": case_pipeline}[kind](n)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run(kind: str, n: int, db: str = "sqlite") -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(n)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BENCH_DB": db},
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} {n} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgres", "both"],
        default="sqlite",
        help="store on a SQLite file (default), the local PostgreSQL (a throwaway schema), or both",
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    print(
        f"{'case':<22}{'mentions':>10}{'seconds':>10}{'mentions/s':>12}{'peak RSS MB':>13}{'vs TextBlob':>13}"
    )
    stores = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for n in args.sizes:
        # This machine's speed drifts between runs: measure the baseline before and after the
        # pipeline and compare against their mean.
        before = run("textblob", n)
        results = {db: run("pipeline", n, db) for db in stores}
        after = run("textblob", n)
        tb_rate = (before["items"] / before["seconds"] + after["items"] / after["seconds"]) / 2
        tb_seconds = (before["seconds"] + after["seconds"]) / 2
        tb_rss = max(before["peak_rss_mb"], after["peak_rss_mb"])
        print(
            f"{'TextBlob alone':<22}{before['items']:>10}{tb_seconds:>10.2f}{tb_rate:>12.0f}"
            f"{tb_rss:>13.0f}{'1.00':>13}"
        )
        for db, pl in results.items():
            pl_rate = pl["items"] / pl["seconds"]
            name = "pipeline → SQLite" if db == "sqlite" else "pipeline → PostgreSQL"
            print(
                f"{name:<22}{pl['items']:>10}{pl['seconds']:>10.2f}{pl_rate:>12.0f}"
                f"{pl['peak_rss_mb']:>13.0f}{pl_rate / tb_rate:>13.2f}"
            )
            print(
                f"  ({n} requested: {pl['stored']} stored after noise filtering, {pl['alerts']} alerts, "
                f"database {pl['db_bytes'] / 1e6:.1f} MB)"
            )
        print(
            f"  (TextBlob before/after {before['items'] / before['seconds']:.0f}/"
            f"{after['items'] / after['seconds']:.0f} per s; target ratio ≥ 0.35 on SQLite)"
        )


if __name__ == "__main__":
    main()
