"""End-to-end benchmark: the real daemon against fake platforms and a local alert receiver, on SQLite
and PostgreSQL, on top of stores pre-seeded to 10k, 100k and 1M mentions.

    python bench/run.py                                  # both databases, 10k/100k/1M (~10 min on 2 cores)
    python bench/run.py --sizes 10000 --backends sqlite  # a quick look (~1 min)
    python bench/run.py --burst 1500 --latency 60        # smaller measuring loads

For each (database, stored size): a fresh store is seeded (bench/seed.py) to the size, the daemon
(``mention-monitor run`` in its own process) polls fake Mastodon, Hacker News and Bluesky servers
(tests/fakes, on 127.0.0.1) every 10 s and alerts a web-hook receiver for every mention. Then:

* ingest throughput end to end: a burst of ``--burst`` mentions is published while the daemon is
  stopped; restarted, its three sources catch up at once. Mentions/s from the daemon logging
  "running" to the last of them stored (its ``fetched_at``): fetch over HTTP → normalize → dedupe
  → triage → store → route, with the alerts going out at the same time. The yardstick is
  TextBlob's polarity alone over the same texts, measured in this run (same machine, same
  moment), and the ratio of the two;
* alert latency: ``--latency`` mentions published one by one at random moments; from the moment
  the fake platform started serving each to the moment its alert reached the receiver
  (p50/p95/p99; the 10 s poll interval dominates it);
* peak RSS of the daemon (VmHWM from /proc, so the whole run's peak);
* database size per 100k stored mentions (SQLite: the file plus WAL; PostgreSQL: every table of
  the throwaway schema with its indexes and TOAST).

PostgreSQL runs in a throwaway schema of the local ``test`` database (MENTION_MONITOR_TEST_PG
overrides the server URL), dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine

from monitor.store import models as m
from monitor.store.db import make_engine, migrate
from tests.harness import ledger
from tests.harness.daemon import DaemonProcess, bench_config, wait_for
from tests.harness.platforms import Platforms
from tests.harness.receiver import AlertReceiver

PG_BASE = os.environ.get("MENTION_MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Row:
    backend: str
    size: int
    rate: float  # mentions/s end to end
    textblob: float  # mentions/s, TextBlob polarity alone
    p50: float
    p95: float
    p99: float
    rss_mb: float
    mb_per_100k: float
    seed_s: float
    tally: ledger.Tally | None = None  # exactly-once over the measured mentions and their alerts


class Store:
    """A fresh database to measure on: a SQLite file or a throwaway PostgreSQL schema."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        if backend == "sqlite":
            self.path = workdir / "bench.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self.schema = f"mm_bench_{uuid.uuid4().hex[:8]}"
            self.admin = create_engine(PG_BASE)
            with self.admin.begin() as conn:
                conn.execute(text(f'create schema "{self.schema}"'))
            self.url = f"{PG_BASE}?options=-csearch_path%3D{self.schema}"

    def size_bytes(self) -> int:
        if self.backend == "sqlite":
            # The WAL folded back into the file first: what stays on disk, not a passing write-ahead log.
            engine = create_engine(self.url)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            return sum(f.stat().st_size for f in self.workdir.glob("bench.db*"))
        with self.admin.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "select coalesce(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)"
                        "::regclass)), 0) from pg_tables where schemaname = :s"
                    ),
                    {"s": self.schema},
                ).scalar_one()
            )

    def drop(self) -> None:
        if self.backend == "postgres":
            with self.admin.begin() as conn:
                conn.execute(text(f'drop schema "{self.schema}" cascade'))
            self.admin.dispose()


def textblob_rate(texts: list[str], seconds: float = 3.0) -> float:
    """TextBlob polarity alone over ``texts`` (the analyzer reused), mentions/s."""
    import textblob  # noqa: F401  (the package first: importing the submodule alone is circular)
    from textblob.en.sentiments import PatternAnalyzer

    analyzer = PatternAnalyzer()
    analyzer.analyze("warm up")
    started = time.perf_counter()
    rounds = 0
    while True:  # at least ``seconds`` of work, so the figure is not noise
        for t in texts:
            analyzer.analyze(t)
        rounds += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return rounds * len(texts) / elapsed


def fetched_last(engine: Engine, sources: list[str], tokens: set[str]) -> tuple[int, float]:
    """(how many of ``tokens`` are stored, the Unix time the last of them was stored)."""
    t = m.Mention.__table__
    last = 0.0
    n = 0
    with engine.connect() as conn:
        for body, fetched in conn.execute(select(t.c.text, t.c.fetched_at).where(t.c.source.in_(sources))):
            found = ledger.TOKEN.search(body or "")
            if found and found.group(0) in tokens:
                n += 1
                last = max(last, fetched.timestamp())
    return n, last


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(backend: str, size: int, args: argparse.Namespace, log: Any = print) -> Row:
    workdir = Path(tempfile.mkdtemp(prefix=f"mm-bench-{backend}-"))
    store = Store(backend, workdir)
    daemon: DaemonProcess | None = None
    try:
        started = time.perf_counter()
        if size:
            from bench.seed import seed

            seed(store.url, size)
        seed_s = time.perf_counter() - started
        engine = make_engine(store.url)
        migrate(engine)
        with Platforms(seed=size) as platforms, AlertReceiver() as receiver:
            sources = [platforms.source_name(k) for k in platforms.servers]
            daemon = DaemonProcess(workdir / "daemon", bench_config(platforms, receiver, store.url))
            daemon.start()
            sc = m.SourceCursor.__table__

            def polled() -> bool:
                with engine.connect() as conn:
                    n = conn.execute(
                        select(func.count()).select_from(sc).where(sc.c.source.in_(sources))
                    ).scalar_one()
                return n >= len(sources)

            if not wait_for(polled, 120):
                raise SystemExit(f"{backend} {size}: the daemon did not poll:\n{daemon.log_tail()}")
            # Throughput: the burst is published while the daemon is stopped; restarted, all its sources
            # poll at once and catch up. From "running" to the last mention stored (its fetched_at).
            daemon.sample_rss()
            daemon.stop()
            burst = platforms.publish(args.burst)
            wanted = set(burst)
            daemon.start()
            if daemon.wait_running() is None:
                raise SystemExit(f"{backend} {size}: the daemon did not restart:\n{daemon.log_tail()}")
            running_at = time.time()
            if not wait_for(lambda: fetched_last(engine, sources, wanted)[0] >= len(wanted), 300, 0.5):
                raise SystemExit(f"{backend} {size}: the burst was not stored:\n{daemon.log_tail()}")
            n, last = fetched_last(engine, sources, wanted)
            rate = n / max(last - running_at, 0.001)
            wait_for(lambda: all(t in receiver.first_arrival() for t in burst), 300, 0.5)
            # The yardstick once the daemon is idle again (its alerts for the burst are out).
            texts = [t for _, t in _texts(engine, sources, wanted)]
            tb = textblob_rate(texts, getattr(args, "textblob_seconds", 3.0))
            # Latency: mentions appearing one at a time at random moments.
            rng = random.Random(size)
            probes: list[str] = []
            for _ in range(args.latency):
                probes += platforms.publish(1)
                time.sleep(rng.uniform(0.0, 2 * args.latency_spacing))
            wait_for(lambda: all(t in receiver.first_arrival() for t in probes), 120, 0.5)
            arrived = receiver.first_arrival()
            lat = sorted(arrived[t] - platforms.published[t].visible_at for t in probes if t in arrived)
            if len(lat) < len(probes):
                log(f"  warning: {len(probes) - len(lat)} latency probe(s) never alerted")
            rss_kb = daemon.sample_rss()
            code = daemon.stop()
            tally = ledger.tally(engine, [*burst, *probes], sources, receiver)
            if not tally.clean:
                log("  warning: " + "; ".join(tally.lines()))
            if code != 0:
                log(f"  warning: daemon exited {code}:\n{daemon.log_tail(10)}")
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(m.Mention.__table__)).scalar_one()
        engine.dispose()
        per_100k = store.size_bytes() / max(stored, 1) * 100_000 / 1e6
        return Row(
            backend,
            size,
            rate,
            tb,
            percentile(lat, 50),
            percentile(lat, 95),
            percentile(lat, 99),
            rss_kb / 1024,
            per_100k,
            seed_s,
            tally,
        )
    finally:
        if daemon is not None:
            daemon.kill()  # a run that failed half-way leaves no daemon behind
        store.drop()
        shutil.rmtree(workdir, ignore_errors=True)


def _texts(engine: Engine, sources: list[str], tokens: set[str]) -> list[tuple[str, str]]:
    t = m.Mention.__table__
    out = []
    with engine.connect() as conn:
        for (body,) in conn.execute(select(t.c.text).where(t.c.source.in_(sources))):
            found = ledger.TOKEN.search(body or "")
            if found and found.group(0) in tokens:
                out.append((found.group(0), body))
    return out


HEADER = (
    f"{'database':<10}{'stored':>9}{'ingest/s':>10}{'TextBlob/s':>12}{'ratio':>7}"
    f"{'alert p50':>11}{'p95':>7}{'p99':>7}{'peak RSS':>10}{'MB/100k':>9}"
)


def line(r: Row) -> str:
    return (
        f"{r.backend:<10}{r.size:>9,}{r.rate:>10.0f}{r.textblob:>12.0f}{r.rate / r.textblob:>7.2f}"
        f"{r.p50:>10.1f}s{r.p95:>6.1f}s{r.p99:>6.1f}s{r.rss_mb:>8.0f}MB{r.mb_per_100k:>9.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--backends", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"]
    )
    parser.add_argument("--burst", type=int, default=3000, help="mentions published at once for throughput")
    parser.add_argument("--latency", type=int, default=60, help="mentions published one by one for latency")
    parser.add_argument("--latency-spacing", type=float, default=0.25, help="mean seconds between them")
    args = parser.parse_args()
    rows = []
    began = time.monotonic()
    for backend in args.backends:
        for size in args.sizes:
            print(f"{backend}: seeding {size:,} mentions, then measuring the daemon …", file=sys.stderr)
            row = measure(backend, size, args, log=lambda s: print(s, file=sys.stderr))
            print(f"  {line(row)}  (seeded in {row.seed_s:.0f} s)", file=sys.stderr)
            rows.append(row)
    print(HEADER)
    for r in rows:
        print(line(r))
    print(
        f"({args.burst} mentions per throughput burst over 3 fake platforms, {args.latency} latency probes, "
        f"poll interval 10 s; TextBlob = PatternAnalyzer polarity alone on the same texts in this run; "
        f"{os.cpu_count()} CPUs; {time.monotonic() - began:.0f} s)"
    )


if __name__ == "__main__":
    main()
