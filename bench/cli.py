"""CLI speed on a big store: start-up and per-command wall time, and each listing filter's query time.

    python bench/seed.py --db sqlite:////tmp/m1m.db --count 1000000   # once (minutes)
    python bench/cli.py --db sqlite:////tmp/m1m.db

Every command runs as a fresh ``python -m monitor …`` process, as an agent types it; the figure
is the median wall time of ``--repeats`` runs. Two yardsticks measured in the same run put the
figures in proportion on a machine whose speed drifts: ``python -c pass`` (the interpreter) and
``python -c "import sqlalchemy"`` (the least any database command can import). Then, in this
process, each ``mentions`` filter's query alone (engine warm, median of ``--repeats``): the part
that grows with the store. Target: every command < 300 ms; every filter < 100 ms at 1M.

The package is byte-compiled first (``compileall``), as pip does on install.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _wall(argv: list[str], repeats: int, env: dict[str, str]) -> tuple[float, int]:
    times = []
    code = 0
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
        times.append(time.perf_counter() - start)
        code = proc.returncode
        if code not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} exited {code}:\n{proc.stderr.decode()[-2000:]}")
    return statistics.median(times), code


def _ids(url: str) -> list[int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        top = conn.execute(text("select max(id) from mention")).scalar() or 0
    engine.dispose()
    if top < 100:
        raise SystemExit(f"{url} holds {top} mentions: seed it first (bench/seed.py)")
    return [top - 7 * i for i in range(1, 60)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a seeded store, e.g. sqlite:////tmp/m1m.db")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "monitor"), quiet=1)
    env = dict(os.environ)
    py = sys.executable
    ids = iter(_ids(args.db))
    db = ["--db", args.db]

    # Migrate once (a store seeded before newer migrations), so no command below pays for it.
    subprocess.run([py, "-m", "monitor", "mentions", "--limit", "1", *db], capture_output=True, check=False)

    cases: list[tuple[str, list[str]]] = [
        ("python -c pass", [py, "-c", "pass"]),
        ("python -c 'import sqlalchemy'", [py, "-c", "import sqlalchemy"]),
        ("--version", [py, "-m", "monitor", "--version"]),
        ("--help", [py, "-m", "monitor", "--help"]),
        ("mentions --limit 50", [py, "-m", "monitor", "mentions", "--limit", "50", *db]),
        ("mentions --search refund", [py, "-m", "monitor", "mentions", "--search", "refund", *db]),
    ]
    rows = []
    for name, argv in cases:
        seconds, _ = _wall(argv, args.repeats, env)
        rows.append((name, seconds))
    for name, extra in (
        ("ack ID", []),
        ("assign ID --to dana", ["--to", "dana"]),
        ("resolve ID", []),
        ("label ID spam", []),
    ):
        verb = name.split()[0]
        times = []
        for _ in range(args.repeats):
            argv = [
                py,
                "-m",
                "monitor",
                verb,
                str(next(ids)),
                *(["spam"] if verb == "label" else []),
                *extra,
                *db,
            ]
            times.append(_wall(argv, 1, env)[0])
        rows.append((name, statistics.median(times)))
    base = rows[1][1]
    print(f"CLI wall time, median of {args.repeats} fresh processes ({args.db})")
    print(f"{'command':<34}{'ms':>8}{'vs import sqlalchemy':>22}")
    for name, seconds in rows:
        print(f"{name:<34}{seconds * 1000:>8.0f}{seconds / base:>22.2f}")

    from monitor.store.db import make_engine
    from monitor.store.queries import MentionFilter, find_mentions, parse_since

    engine = make_engine(args.db)
    filters = {
        "none (newest 50)": MentionFilter(),
        "label=complaint": MentionFilter(label="complaint"),
        "priority=P1": MentionFilter(priority="P1"),
        "status=new": MentionFilter(status="new"),
        "since=1d": MentionFilter(since=parse_since("1d")),
        "assignee=dana": MentionFilter(assignee="dana"),
        "platform=reddit": MentionFilter(platform="reddit"),
        "search=refund": MentionFilter(search="refund"),
        'search="charged twice"': MentionFilter(search='"charged twice"'),
        "search=giveaway*": MentionFilter(search="giveaway*"),
        "search=zzzunknown": MentionFilter(search="zzzunknown"),
        "label+status+search": MentionFilter(label="complaint", status="new", search="refund"),
    }
    find_mentions(engine, MentionFilter(limit=1))  # connect and warm the engine
    print(f"\n`mentions` query time in-process (limit 50, median of {args.repeats}; target < 100 ms)")
    print(f"{'filter':<28}{'ms':>8}{'rows':>6}")
    for name, f in filters.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            found = find_mentions(engine, f)
            times.append(time.perf_counter() - start)
        print(f"{name:<28}{statistics.median(times) * 1000:>8.1f}{len(found):>6}")
    engine.dispose()


if __name__ == "__main__":
    main()
