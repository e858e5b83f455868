"""Open complaints by age and repeat complainers come from roll-ups kept in step with the mentions:
after new mentions, resolves, reopens, ignores and relabels (through the real workflow), and after
an upgrade that starts them empty, they equal a count over the mention table itself.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from monitor import workflow
from monitor.alerts.settings import BusinessHours
from monitor.reports import build
from monitor.reports.complaints import AGE_BANDS, OPEN_STATUSES
from monitor.reports.period import ReportQuery
from monitor.reports.settings import ReportSettings
from monitor.store import models as m
from tests.reports.conftest import add_mention

NOW = datetime(2026, 12, 3, 10, 17, 30, tzinfo=UTC)
SETTINGS = ReportSettings(business_hours=BusinessHours(timezone="UTC"))
PERIODS = [
    ReportQuery(NOW - timedelta(days=7), NOW),
    ReportQuery(NOW - timedelta(days=30), NOW),
    ReportQuery(NOW - timedelta(days=30), NOW, platform="reddit"),
    ReportQuery(NOW - timedelta(days=20), NOW - timedelta(days=9, hours=5)),  # ends in the past
]


def _stored(engine):
    t = m.Mention.__table__
    with engine.connect() as conn:
        return conn.execute(
            select(t.c.id, t.c.platform, t.c.author_handle, t.c.created_at, t.c.label, t.c.status)
        ).all()


def _expected_open(rows, platform=None):
    counts = {label: dict.fromkeys(OPEN_STATUSES, 0) for _, label in AGE_BANDS}
    for r in rows:
        if r.label != "complaint" or r.status not in OPEN_STATUSES or platform not in (None, r.platform):
            continue
        band = next(label for limit, label in AGE_BANDS if limit is None or r.created_at > NOW - limit)
        counts[band][r.status] += 1
    return counts


def _expected_complainers(rows, q):
    per = defaultdict(list)
    for r in rows:
        if r.label == "complaint" and q.start <= r.created_at < q.end and q.platform in (None, r.platform):
            per[(r.platform, r.author_handle)].append(r.created_at)
    repeat = [(p, h, len(ts), max(ts)) for (p, h), ts in per.items() if len(ts) > 1]
    return sorted(repeat, key=lambda x: (-x[2], -x[3].timestamp(), x[0], x[1]))


def _check(engine):
    rows = _stored(engine)
    for q in PERIODS:
        got = build(engine, ["open", "complainers"], q, SETTINGS, NOW)
        assert got["open"].counts == _expected_open(rows, q.platform), q
        mine = [(a.platform, a.handle, a.complaints, a.last_at) for a in got["complainers"].authors]
        want = _expected_complainers(rows, q)
        # The top 15 (most complaints, latest first); ties further down may come in any order.
        assert sorted(mine, key=lambda x: (-x[2], -x[3].timestamp(), x[0], x[1])) == want[: len(mine)], q
        assert len(mine) == min(15, len(want)), q


def _populate(engine, rng, n, *, start=0):
    ids = []
    for i in range(start, start + n):
        # Band edges on purpose: a few complaints exactly at, and a second around, "now - limit".
        if i % 7 == 0:
            limit = rng.choice([x for x, _ in AGE_BANDS if x is not None])
            created = NOW - limit + timedelta(seconds=rng.choice((-1, 0, 1)))
        else:
            created = NOW - timedelta(seconds=rng.randrange(40 * 24 * 3600))
        ids.append(
            add_mention(
                engine,
                platform=rng.choice(("reddit", "mastodon")),
                author_handle=f"u{rng.randrange(12)}",
                created_at=created,
                label=rng.choice(("complaint", "complaint", "question", "praise")),
                status=rng.choice(("new", "acknowledged", "replied", "resolved", "ignored")),
            )
        )
    return ids


def test_roll_ups_follow_resolve_reopen_ignore_and_relabel(engine):
    rng = random.Random(5)
    ids = _populate(engine, rng, 160)
    _check(engine)
    for step in range(6):
        picked = rng.sample(ids, 25)
        workflow.resolve(engine, picked[:6], actor="alice", now=NOW)
        workflow.transition(engine, picked[6:10], "reopen", actor="alice", now=NOW)
        workflow.ignore(engine, picked[10:13], actor="bob", now=NOW)
        workflow.acknowledge(engine, picked[13:17], actor="bob", now=NOW)
        for mention_id in picked[17:21]:
            workflow.correct_label(engine, mention_id, "question", actor="chen", now=NOW)
        for mention_id in picked[21:25]:
            workflow.correct_label(engine, mention_id, "complaint", actor="chen", now=NOW)
        # New mentions in between, some posted before those already rolled up (a late backfill).
        ids += _populate(engine, rng, 15, start=1000 + 15 * step)
        _check(engine)


def test_a_reopened_complaint_counts_again_in_its_age_band(engine):
    a = add_mention(engine, author_handle="kim", created_at=NOW - timedelta(hours=2), label="complaint")
    b = add_mention(engine, author_handle="kim", created_at=NOW - timedelta(days=10), label="complaint")
    q = ReportQuery(NOW - timedelta(days=30), NOW)

    def figures():
        got = build(engine, ["open", "complainers"], q, SETTINGS, NOW)
        return got["open"].counts, [(x.handle, x.complaints) for x in got["complainers"].authors]

    counts, who = figures()
    assert counts["1–4 h"]["new"] == 1 and counts["> 7 d"]["new"] == 1 and who == [("kim", 2)]
    workflow.resolve(engine, [a, b], actor="alice", now=NOW)
    counts, _ = figures()
    assert sum(sum(v.values()) for v in counts.values()) == 0
    workflow.transition(engine, [b], "reopen", actor="alice", now=NOW)
    counts, _ = figures()
    assert counts["> 7 d"] == {"new": 0, "acknowledged": 1, "replied": 0}
    workflow.correct_label(engine, b, "praise", actor="alice", now=NOW)
    counts, who = figures()
    assert counts["> 7 d"]["acknowledged"] == 0 and who == []
    workflow.correct_label(engine, b, "complaint", actor="alice", now=NOW)
    counts, who = figures()
    assert counts["> 7 d"]["acknowledged"] == 1 and who == [("kim", 2)]


def test_an_upgraded_store_fills_the_complaint_roll_ups_from_its_mentions(engine):
    rng = random.Random(9)
    _populate(engine, rng, 120)
    build(engine, ["open"], PERIODS[0], SETTINGS, NOW)
    # As migration 0012 leaves a store whose other roll-ups are already up to date.
    state = m.ReportState.__table__
    with engine.begin() as conn:
        conn.execute(m.ReportComplaint.__table__.delete())
        conn.execute(m.ReportOpen.__table__.delete())
        conn.execute(update(state).where(state.c.name.in_(("complaints", "events"))).values(int_value=0))
    _check(engine)
