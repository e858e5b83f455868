"""Learned-signal speed: triage throughput with the optional model on, as a ratio to TextBlob alone.

    python bench/learned.py                          # the airline tweets in ../shared/data
    python bench/learned.py --data posts.csv --column text
    python bench/learned.py --simulated 20000        # no data set: the simulated platform's posts

On one core, in one process, over the same texts: TextBlob polarity alone (analyzer reused, the
ceiling), full triage without a model, and full triage with a model trained on half of the texts
(labels: the data set's negative class, or the simulated posts' kinds). Each is timed
``--repeats`` times and the best kept; TextBlob is timed before and after the triage runs and the
mean used, since this machine's speed drifts. Target: triage with the model ≥ 0.45× TextBlob.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "airline_tweets.csv"


def _airline(path: Path, column: str, label_column: str, negative: str) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            (row[column], "complaint" if row.get(label_column) == negative else "other")
            for row in csv.DictReader(fh)
            if row.get(column)
        ]


def _simulated(n: int) -> list[tuple[str, str]]:
    from monitor.brand import BrandSettings
    from monitor.sources.simulated import SimulatedSource

    src = SimulatedSource("bench", SimulatedSource.Settings(), BrandSettings(names=["Acme"]))
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        mention = src.make(i, now=now)
        if mention is not None:
            kind = (
                "complaint" if any(w in mention.text.lower() for w in ("refund", "broken", "never")) else "x"
            )
            out.append((mention.text, kind))
    return out


def _best(fn: Callable[[], None], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--column", default="text")
    parser.add_argument("--label-column", default="airline_sentiment")
    parser.add_argument("--negative", default="negative")
    parser.add_argument("--simulated", type=int, default=0, help="use N simulated posts instead of --data")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    from textblob.en.sentiments import PatternAnalyzer

    from monitor.mention import Mention
    from monitor.triage import Triager
    from monitor.triage.learned import train

    if args.simulated or not args.data.is_file():
        rows = _simulated(args.simulated or 20_000)
        source = f"{len(rows)} simulated posts"
    else:
        rows = _airline(args.data, args.column, args.label_column, args.negative)
        source = f"{len(rows)} posts from {args.data.name}"
    model = train(rows[::2])
    when = datetime(2026, 1, 1, tzinfo=UTC)
    mentions = [
        Mention(
            platform="bench", external_id=str(i), text=t, created_at=when, author_handle="a", language="en"
        )
        for i, (t, _) in enumerate(rows)
    ]
    texts = [t for t, _ in rows]
    analyzer = PatternAnalyzer()
    plain, learned = Triager(), Triager(learned=model)

    def textblob() -> None:
        for text in texts:
            analyzer.analyze(text)

    def triage(triager: Triager) -> Callable[[], None]:
        def run() -> None:
            for mention in mentions:
                triager.assess(mention)

        return run

    def model_alone() -> None:
        for text in texts:
            model.complaint_score(text)
            model.top_terms(text)

    tb_before = _best(textblob, args.repeats)
    t_plain = _best(triage(plain), args.repeats)
    t_learned = _best(triage(learned), args.repeats)
    t_model = _best(model_alone, args.repeats)
    tb_after = _best(textblob, args.repeats)
    tb = (tb_before + tb_after) / 2
    n = len(texts)
    print(f"{source}; best of {args.repeats}, one core")
    print(f"{'case':<28}{'per s':>10}{'µs each':>10}{'vs TextBlob':>13}")
    for name, seconds in (
        ("TextBlob alone", tb),
        ("triage, no model", t_plain),
        ("triage + learned model", t_learned),
        ("learned model alone", t_model),
    ):
        print(f"{name:<28}{n / seconds:>10.0f}{seconds / n * 1e6:>10.1f}{tb / seconds:>13.2f}")
    print(
        f"(TextBlob before/after {n / tb_before:.0f}/{n / tb_after:.0f} per s; "
        "target: triage + learned model ≥ 0.45× TextBlob)"
    )


if __name__ == "__main__":
    main()
