"""bench/run.py in miniature: the real daemon, fake platforms and receiver, tiny loads; figures exist and
every measured mention is stored once and alerted once (no timing asserted)."""

from __future__ import annotations

import argparse
import math

import pytest

from bench.run import measure


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_benchmark_runs_end_to_end_and_counts_exactly_once(backend):
    args = argparse.Namespace(burst=90, latency=3, latency_spacing=0.1, textblob_seconds=0.2)
    row = measure(backend, 0, args, log=lambda *_: None)
    assert row.tally is not None and row.tally.clean, row.tally.lines() if row.tally else None
    assert row.tally.served == 93 and row.tally.stored == 93 and row.tally.alerts_received == 93
    assert row.tally.alerts_duplicated == 0 and row.tally.marked_repeats == 0
    for figure in (row.rate, row.textblob, row.p50, row.p95, row.p99, row.rss_mb, row.mb_per_100k):
        assert math.isfinite(figure) and figure > 0
    assert row.p50 <= row.p95 <= row.p99
