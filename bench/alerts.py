"""Alert benchmark: from a mention appearing on a source to its alert arriving at a chat web hook.

    python bench/alerts.py                     # latency (60 mentions) + sustained rate (1000)
    python bench/alerts.py --latency 200 --burst 3000 --destinations 4

The path measured is the daemon's real one: a source polled every second by the
scheduler's SourceRunner → pipeline (triage, store, outbox rows in one
transaction) → notifier woken → Apprise ``json://`` → a web-hook receiver on
127.0.0.1. Latency is arrival time minus the moment the mention became
visible on the fake source; target: p95 ≤ poll interval + 1 s. The sustained
rate is alerts delivered per second while draining a burst.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import Field

from monitor.alerts.notifier import Notifier
from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.scheduler import SourceRunner
from monitor.sources.base import Page, Source, SourceSettings
from monitor.store.db import make_engine, migrate

_TOKEN = re.compile(r"bench-(\d+)")


class FeedSettings(SourceSettings):
    # The real sources poll every ≥10 s; the benchmark asks for the 1 s of the target.
    interval: float = Field(default=1.0, gt=0)


class Feed(Source):
    """A fake platform: mentions become visible when ``publish`` is called, and every poll returns them."""

    platform = "bench"
    Settings = FeedSettings

    def __init__(self, name: str, settings: FeedSettings, brand: Any) -> None:
        super().__init__(name, settings, brand)
        self._lock = threading.Lock()
        self._waiting: list[Mention] = []
        self.appeared: dict[int, float] = {}

    def publish(self, n: int, text: str) -> None:
        mention = Mention(
            platform="bench",
            external_id=str(n),
            text=f"@acme {text} (bench-{n})",
            created_at=datetime.now(UTC),
            author_handle=f"customer{n}",
            author_followers=random.randint(10, 5000),
            url=f"https://bench.example/{n}",
            language="en",
        )
        with self._lock:
            self._waiting.append(mention)
            self.appeared[n] = time.perf_counter()

    def fetch(self, cursor: dict[str, Any]) -> Page:
        with self._lock:
            batch, self._waiting = self._waiting[:500], self._waiting[500:]
            more = bool(self._waiting)
        return Page(mentions=batch, cursor={"n": (cursor.get("n") or 0) + len(batch)}, more=more)


class Hook:
    """A chat web hook on 127.0.0.1 that timestamps each alert's arrival."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.count = 0
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = time.perf_counter()
                found = _TOKEN.search(json.loads(body).get("message", ""))
                with hook.lock:
                    hook.count += 1
                    if found:
                        hook.arrived.setdefault(int(found.group(1)), at)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, i: int) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook{i}"


def _wait_for(predicate: Any, timeout: float) -> bool:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def run(latency_n: int, burst_n: int, destinations: int) -> dict[str, Any]:
    hook = Hook()
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-alerts-"))
    config = parse_config(
        {
            "brand": {"names": ["Acme"]},
            "alerts": {
                "routes": [{"name": "all", "notify": [hook.url(i) for i in range(destinations)]}],
                # Every mention alerts on its own here: no storm folding, no per-author window.
                "incidents": {"enabled": False},
                "author_window_minutes": 0,
            },
        }
    )
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    migrate(engine)
    stop = threading.Event()
    notifier = Notifier(engine, config)
    pipeline = Pipeline(engine, config, on_alerts=notifier.wake)
    feed = Feed("feed", FeedSettings(platform="bench"), config.brand)
    runner = SourceRunner("feed", feed, pipeline, engine, stop=stop)
    threads = [
        threading.Thread(target=runner.run, daemon=True),
        threading.Thread(target=notifier.run, args=(stop,), daemon=True),
    ]
    for t in threads:
        t.start()
    texts = [
        "you charged me twice, refund now",
        "app crashes at checkout",
        "love the new update",
        "where is my order?",
    ]

    # Latency: mentions appear at random moments relative to the 1 s poll.
    for n in range(latency_n):
        feed.publish(n, random.choice(texts))
        time.sleep(random.uniform(0.05, 0.4))
    _wait_for(lambda: len(hook.arrived) >= latency_n, 30)
    lat = sorted(hook.arrived[n] - feed.appeared[n] for n in range(latency_n) if n in hook.arrived)

    # Sustained rate: a burst, drained as fast as the notifier can.
    before = hook.count
    first = latency_n
    start = time.perf_counter()
    for n in range(first, first + burst_n):
        feed.publish(n, random.choice(texts))
    expected = before + burst_n * destinations
    _wait_for(lambda: hook.count >= expected, 600)
    elapsed = time.perf_counter() - start
    delivered = hook.count - before
    stop.set()
    for t in threads:
        t.join(30)
    hook.server.shutdown()
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0]] * 99
    return {
        "poll_interval_s": feed.settings.interval,
        "destinations": destinations,
        "latency_n": len(lat),
        "latency_p50_s": round(statistics.median(lat), 3),
        "latency_p95_s": round(q[94], 3),
        "latency_max_s": round(lat[-1], 3),
        "burst": burst_n,
        "burst_deliveries": delivered,
        "burst_seconds": round(elapsed, 2),
        "alerts_per_s": round(delivered / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=int, default=60, help="mentions for the latency run")
    parser.add_argument("--burst", type=int, default=1000, help="mentions for the sustained-rate run")
    parser.add_argument("--destinations", type=int, default=1, help="web hooks on the route")
    args = parser.parse_args()
    result = run(args.latency, args.burst, args.destinations)
    target = result["poll_interval_s"] + 1
    print(
        f"latency (mention visible → alert at the hook), poll every {result['poll_interval_s']:g} s, "
        f"n={result['latency_n']}: p50 {result['latency_p50_s']:.3f} s, p95 {result['latency_p95_s']:.3f} s, "
        f"max {result['latency_max_s']:.3f} s (target p95 ≤ {target:g} s: "
        f"{'met' if result['latency_p95_s'] <= target else 'MISSED'})"
    )
    print(
        f"sustained: {result['burst_deliveries']} deliveries ({result['burst']} alerts × "
        f"{result['destinations']} hook(s)) in {result['burst_seconds']} s = "
        f"{result['alerts_per_s']} deliveries/s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
