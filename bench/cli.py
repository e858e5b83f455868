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

Before/after in one run: ``--baseline DIR`` is another checkout (``git archive OLD | tar -x -C
DIR``) measured command by command alongside this one, on ``--baseline-db`` (its own copy of
the store: the commands write, and an older release refuses a newer schema). ``--queries-only``
skips the commands (e.g. on a PostgreSQL schema shared with others).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("MM_BENCH_TREE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))


def _wall(argv: list[str], repeats: int, env: dict[str, str], cwd: str | None = None) -> tuple[float, int]:
    times = []
    code = 0
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False, cwd=cwd
        )
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


FILTERS = {
    "none (newest 50)": {},
    "label=complaint": {"label": "complaint"},
    "priority=P1": {"priority": "P1"},
    "status=new": {"status": "new"},
    "since=1d": {"since": "1d"},
    "assignee=dana": {"assignee": "dana"},
    "platform=reddit": {"platform": "reddit"},
    "search=refund": {"search": "refund"},
    'search="charged twice"': {"search": '"charged twice"'},
    "search=giveaway*": {"search": "giveaway*"},
    "search=zzzunknown": {"search": "zzzunknown"},
    "label+status+search": {"label": "complaint", "status": "new", "search": "refund"},
    'reddit+"charged twice"': {"platform": "reddit", "search": '"charged twice"'},
    "praise+refund (no match)": {"label": "praise", "search": "refund"},
}


def _query_times(url: str, repeats: int) -> dict[str, tuple[float, int]]:
    """Each filter's ``find_mentions`` time in this process (engine warm): median ms, rows."""
    from monitor.store.db import make_engine, migrate
    from monitor.store.queries import MentionFilter, find_mentions, parse_since

    engine = make_engine(url)
    migrate(engine)
    find_mentions(engine, MentionFilter(limit=1))  # connect and warm the engine
    found: dict[str, tuple[float, int]] = {}
    for name, spec in FILTERS.items():
        spec = dict(spec)
        if "since" in spec:
            spec["since"] = parse_since(spec["since"])
        f = MentionFilter(**spec)
        times = []
        rows = 0
        for _ in range(repeats):
            start = time.perf_counter()
            rows = len(find_mentions(engine, f))
            times.append(time.perf_counter() - start)
        found[name] = (statistics.median(times) * 1000, rows)
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a seeded store, e.g. sqlite:////tmp/m1m.db")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", help="another checkout to measure alongside (before/after)")
    parser.add_argument("--baseline-db", help="the baseline's own copy of the store (default: --db)")
    parser.add_argument("--queries-only", action="store_true", help="only the in-process query times")
    parser.add_argument("--query-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.query_json:  # the baseline's query times, measured by its own code (MM_BENCH_TREE)
        print(json.dumps(_query_times(args.db, args.repeats)))
        return
    compileall.compile_dir(str(ROOT / "monitor"), quiet=1)
    env = dict(os.environ)
    py = sys.executable
    trees = [("now", str(ROOT), args.db)]
    if args.baseline:
        base = str(Path(args.baseline).resolve())
        compileall.compile_dir(str(Path(base) / "monitor"), quiet=1)
        trees.insert(0, ("before", base, args.baseline_db or args.db))
    if not args.queries_only:
        _commands(trees, args.repeats, env, py)
    found = {}
    for label, tree, url in trees:
        if tree == str(ROOT):
            found[label] = _query_times(url, args.repeats)
        else:
            proc = subprocess.run(
                [
                    py,
                    str(Path(__file__).resolve()),
                    "--query-json",
                    "--db",
                    url,
                    "--repeats",
                    str(args.repeats),
                ],
                env={**env, "MM_BENCH_TREE": tree, "PYTHONPATH": tree},
                cwd=tree,
                capture_output=True,
                text=True,
                check=True,
            )
            found[label] = {k: tuple(v) for k, v in json.loads(proc.stdout).items()}
    print(f"\n`mentions` query time in-process (limit 50, median of {args.repeats}; target < 100 ms)")
    print(f"{'filter':<28}" + "".join(f"{label + ' ms':>12}{'rows':>6}" for label, _, _ in trees))
    for name in FILTERS:
        cells = ""
        for label, _, _ in trees:
            ms, rows = found[label].get(name, (float("nan"), 0))
            cells += f"{ms:>12.1f}{rows:>6}"
        print(f"{name:<28}{cells}")


def _commands(trees: list[tuple[str, str, str]], repeats: int, env: dict[str, str], py: str) -> None:
    """Wall time of each command as a fresh process, every tree in turn per command."""
    ids = {label: iter(_ids(url)) for label, _, url in trees}
    for _, tree, url in trees:
        # Migrate once (a store seeded before newer migrations), so no command below pays for it.
        subprocess.run(
            [py, "-m", "monitor", "mentions", "--limit", "1", "--db", url],
            capture_output=True,
            check=False,
            cwd=tree,
            env={**env, "PYTHONPATH": tree},
        )
    yardsticks = [
        ("python -c pass", [py, "-c", "pass"]),
        ("python -c 'import sqlalchemy'", [py, "-c", "import sqlalchemy"]),
    ]
    commands: list[tuple[str, list[str]]] = [
        ("--version", ["--version"]),
        ("--help", ["--help"]),
        ("mentions --limit 50", ["mentions", "--limit", "50", "DB"]),
        ("mentions --search refund", ["mentions", "--search", "refund", "DB"]),
        ("ack ID", ["ack", "ID", "DB"]),
        ("assign ID --to dana", ["assign", "ID", "--to", "dana", "DB"]),
        ("resolve ID", ["resolve", "ID", "DB"]),
        ("label ID spam", ["label", "ID", "spam", "DB"]),
    ]
    rows: list[tuple[str, dict[str, float]]] = []
    for name, argv in yardsticks:
        rows.append((name, {label: _wall(argv, repeats, env)[0] for label, _, _ in trees}))
    for name, template in commands:
        times: dict[str, list[float]] = {label: [] for label, _, _ in trees}
        for _ in range(repeats):
            for label, tree, url in trees:
                argv = [py, "-m", "monitor"]
                for part in template:
                    argv += (
                        ["--db", url] if part == "DB" else [str(next(ids[label]))] if part == "ID" else [part]
                    )
                times[label].append(_wall(argv, 1, {**env, "PYTHONPATH": tree}, cwd=tree)[0])
        rows.append((name, {label: statistics.median(t) for label, t in times.items()}))
    # The same commands for every tree: pooled yardsticks.
    interp, base = (statistics.mean(rows[i][1].values()) for i in (0, 1))
    print(f"CLI wall time, median of {repeats} fresh processes ({', '.join(url for _, _, url in trees)})")
    header = "".join(f"{label + ' ms':>12}{'× pass':>8}{'× sqlalchemy':>14}" for label, _, _ in trees)
    print(f"{'command':<34}{header}")
    for name, by_tree in rows:
        cells = "".join(
            f"{by_tree[label] * 1000:>12.0f}{by_tree[label] / interp:>8.2f}{by_tree[label] / base:>14.2f}"
            for label, _, _ in trees
        )
        print(f"{name:<34}{cells}")


if __name__ == "__main__":
    main()
