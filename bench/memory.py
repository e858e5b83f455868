"""Daemon memory: peak RSS of ``mention-monitor run`` on a big store with five sources polling.

    python bench/seed.py --db sqlite:////tmp/m1m.db --count 1000000    # once
    python bench/memory.py --db sqlite:////tmp/m1m.db --mentions 20000

Starts the real daemon (``python -m monitor run -c …``) on the given store with five simulated
sources (500 mentions a page, one poll a second each, distinct seeds so nothing deduplicates)
and an alert route, samples its /proc status every half second and stops it with SIGTERM once
the sources have stored ``--mentions`` new mentions in total (or after ``--timeout`` s). Prints
VmHWM (the kernel's peak resident set) and the RSS at the end. Target: peak < 150 MB at 1M.
The daemon gets the environment the shipped systemd unit sets (its ``Environment=`` lines, e.g.
``MALLOC_ARENA_MAX=2``); ``--no-unit-env`` runs it without, to see what those are worth.
The store is written to: use a bench copy, not production data.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "mention-monitor.service"


def unit_environment(unit: Path = UNIT) -> dict[str, str]:
    """The variables the unit's ``Environment=`` lines set (what the service runs with)."""
    env = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            for pair in shlex.split(line.removeprefix("Environment=")):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def _status(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0])  # kB
    except FileNotFoundError:
        pass
    return out


def _stored(url: str, where: str = "where platform = 'simulated'") -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text(f"select count(*) from mention {where}")).scalar() or 0
    engine.dispose()
    return int(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a seeded store (it is written to)")
    parser.add_argument("--mentions", type=int, default=20_000, help="stop after this many new mentions")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--no-unit-env", action="store_true", help="without the systemd unit's Environment= variables"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    before, total = _stored(args.db), _stored(args.db, "")
    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "brand": {"names": ["Acme"], "handles": {"simulated": ["acme"]}},
            "sources": {
                f"sim{i}": {
                    "platform": "simulated",
                    "per_poll": 500,
                    "seed": 1000 + i + before,  # a fresh id range on every run
                    "interval": 1,
                }
                for i in range(1, 6)
            },
            "alerts": {
                "routes": [
                    {"name": "urgent", "match": {"priority": "P1"}, "notify": ["json://127.0.0.1:9/x"]}
                ]
            },
            "storage": {"url": args.db},
            "logging": {"level": "WARNING"},
        }
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "-c", str(path)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=dict(os.environ) | ({} if args.no_unit_env else unit_environment()),
        )
        start = time.monotonic()
        peak = 0
        peak_anon = peak_file = 0
        new = 0
        try:
            while time.monotonic() - start < args.timeout and proc.poll() is None:
                time.sleep(0.5)
                now = _status(proc.pid)
                peak = max(peak, now.get("VmHWM", 0))
                peak_anon = max(peak_anon, now.get("RssAnon", 0))
                peak_file = max(peak_file, now.get("RssFile", 0))
                if int(time.monotonic() - start) % 5 == 0:
                    new = _stored(args.db) - before
                    if new >= args.mentions:
                        break
            final = _status(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        if proc.returncode not in (0, -signal.SIGTERM):
            sys.stderr.write((proc.stderr.read() if proc.stderr else b"").decode()[-3000:])
    seconds = time.monotonic() - start
    new = _stored(args.db) - before
    print(f"store: {args.db} ({total:,} mentions, {before:,} simulated, before this run)")
    unit_env = "none" if args.no_unit_env else " ".join(f"{k}={v}" for k, v in unit_environment().items())
    print(f"environment from {UNIT.name}: {unit_env}")
    print(
        f"daemon ran {seconds:.0f} s, stored {new:,} new mentions from 5 sources "
        f"({new / seconds:,.0f}/s); peak RSS (VmHWM) {max(peak, final.get('VmHWM', 0)) / 1024:.0f} MB, "
        f"RSS at the end {final.get('VmRSS', 0) / 1024:.0f} MB (target: peak < 150 MB)"
    )
    print(
        f"largest samples: anonymous {peak_anon / 1024:.0f} MB (heap, SQLite page cache), "
        f"file-backed {peak_file / 1024:.0f} MB (code, memory-mapped database pages)"
    )


if __name__ == "__main__":
    main()
