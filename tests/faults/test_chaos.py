"""bench/chaos.py in miniature: every fault kind in one burst against the real daemon, then exactly-once.

Fake Mastodon, Hacker News and Bluesky servers answer 429 storms with reset headers, 5xx,
slow, cut-off, malformed and HTML-with-200 responses; the alert receiver fails, then hangs past
the send deadline; the daemon is SIGKILLed while the receiver holds a request and again at a
random point; its private PostgreSQL is restarted; agents' replies are in flight throughout.
Afterwards every mention served is stored once, every alert due arrived (at most one extra copy,
marked as a repeat) and every reply was posted exactly once.
No timing is asserted (bench/chaos.py prints the recovery times).
"""

from __future__ import annotations

import pytest

from bench.chaos import Chaos


@pytest.mark.slow
def test_a_burst_of_every_fault_loses_nothing_and_doubles_nothing(tmp_path):
    report = Chaos(
        tmp_path,
        db="postgres",
        rate=5,
        fault_seconds=2.5,
        kills=2,
        burst=True,
        recovery_deadline=90,
        log=lambda *_: None,
    ).run()
    t = report.tally
    assert t is not None
    assert t.served > 50 and t.stored == t.served
    assert (t.lost, t.duplicated) == (0, 0), t.lines()
    assert t.alerts_due == t.served and t.alerts_lost == 0, t.lines()
    assert t.alerts_duplicated == 0, t.lines()  # never a second unmarked copy
    assert t.marked_repeats >= 1, t.lines()  # the send cut by SIGKILL went out again, marked
    r = report.replies
    assert r["queued"] >= 8 and r["posted"] == r["queued"], r  # replies in flight: each posted once
    assert (r["lost"], r["duplicated"]) == (0, 0), r
    assert report.kills == 2 and not report.crashed
    assert report.exit_code == 0
