"""The roll-up's edges: bounded catch-up, a new time zone regroups days, long topic tails are pruned."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from monitor.alerts.settings import BusinessHours
from monitor.reports import rollup
from monitor.reports.rollup import RollupSettings, catch_up
from monitor.store import models as m

UTC_HOURS = RollupSettings(business_hours=BusinessHours(timezone="UTC"))


def _bulk(engine, rows):
    base = {"source": "mastodon", "author_handle": "a", "label": "neutral", "polarity": 0.0, "status": "new"}
    with engine.begin() as conn:
        conn.execute(
            m.Mention.__table__.insert(),
            [{**base, **r, "platform": "mastodon", "fetched_at": r["created_at"]} for r in rows],
        )


def test_bounded_catch_up_says_how_far_behind_it_is(engine):
    start = datetime(2026, 12, 1, tzinfo=UTC)
    _bulk(engine, [{"external_id": f"b{i}", "text": "hi", "created_at": start} for i in range(120)])
    first = catch_up(engine, UTC_HOURS, batch=50, max_rows=100)
    assert (first.mentions, first.behind) == (100, 20)
    second = catch_up(engine, UTC_HOURS, batch=50, max_rows=100)
    assert (second.mentions, second.behind) == (20, 0)
    h = m.ReportHourly.__table__
    with engine.connect() as conn:
        assert conn.execute(select(func.sum(h.c.n))).scalar() == 120


def test_another_time_zone_regroups_the_days(engine):
    # 23:30 UTC on 1 Dec is already 2 Dec in Berlin.
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    _bulk(engine, [{"external_id": "late", "text": "hi", "created_at": late}])
    catch_up(engine, UTC_HOURS)
    d = m.ReportDaily.__table__
    with engine.connect() as conn:
        assert conn.execute(select(d.c.day, d.c.n)).all() == [(date(2026, 12, 1), 1)]
    berlin = RollupSettings(business_hours=BusinessHours(timezone="Europe/Berlin"))
    catch_up(engine, berlin)
    with engine.connect() as conn:
        assert conn.execute(select(d.c.day, d.c.n)).all() == [(date(2026, 12, 2), 1)]


def test_finished_days_keep_only_their_top_phrases(engine, monkeypatch):
    monkeypatch.setattr(rollup, "TOPICS_KEPT", 2)
    old = datetime(2026, 11, 20, 12, tzinfo=UTC)
    rows = [
        {"external_id": "c1", "text": "refund late", "created_at": old},
        {"external_id": "c2", "text": "refund late", "created_at": old},
        {"external_id": "c3", "text": "refund", "created_at": old},
        {"external_id": "c4", "text": "zebra", "created_at": old},
        # A mention five days later finishes 20 Nov; its own day stays complete.
        {"external_id": "c5", "text": "unicorn", "created_at": old + timedelta(days=5)},
    ]
    _bulk(engine, [{**r, "label": "complaint"} for r in rows])
    catch_up(engine, UTC_HOURS)
    tt = m.ReportTopic.__table__
    day = datetime(2026, 11, 20, tzinfo=UTC)
    with engine.connect() as conn:
        kept = {
            platform: dict(
                conn.execute(
                    select(tt.c.phrase, tt.c.n).where(tt.c.day == day, tt.c.platform == platform)
                ).all()
            )
            for platform in ("mastodon", rollup.ALL_PLATFORMS)
        }
        later = conn.execute(select(tt.c.platform, tt.c.phrase).where(tt.c.day > day)).all()
    # refund 3, late 2, "refund late" 2 (a tie at the cut is kept); zebra (1) is dropped, from the
    # platform's rows and from those of every platform together alike.
    assert kept["mastodon"] == kept[rollup.ALL_PLATFORMS] == {"refund": 3, "late": 2, "refund late": 2}
    assert sorted(later) == [(rollup.ALL_PLATFORMS, "unicorn"), ("mastodon", "unicorn")]
