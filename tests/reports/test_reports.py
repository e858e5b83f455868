"""Every report on a small hand-made week, with exact figures, on SQLite and PostgreSQL.

The week (Europe/Berlin, Mon–Fri 09:00–17:00; now = Thu 3 Dec 2026 10:00):

* A  Fri 16:50 complaint P1 by carol, answered by alice Mon 09:04 → 14 business min (met)
* B  Sat 10:00 complaint P2 by dave, answered by bob Mon 13:30 → 4 h 30 business (missed 4 h)
* C  Mon 08:00 complaint P1 by erin, answered by chen Mon 09:10 → 10 business min (met)
* D  Tue 10:00 question P3 by fay, answered by alice Tue 12:00 → 2 h (met)
* E  Wed 09:00 complaint P1 by gus, unanswered → overdue now
* F  Thu 09:30 question P3, unanswered → not due yet
* G  Wed 09:00 complaint P1, ignored → not counted
* H  Wed 11:00 praise P3, unanswered → needs no response
* carol again Mon 12:00 (+0.3 after -0.6: recovered); dave again Tue 15:00 (complaint, -0.8 after -0.5)
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from monitor import workflow
from monitor.alerts.settings import BusinessHours, SLASettings
from monitor.reports import build, catch_up
from monitor.reports.gaps import coverage_gaps
from monitor.reports.period import PeriodError, parse_query
from monitor.reports.settings import ReportSettings
from monitor.store import models as m
from tests.reports.conftest import add_mention, first_response

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=BERLIN).astimezone(UTC)
SETTINGS = ReportSettings(
    business_hours=BusinessHours(timezone="Europe/Berlin", start="09:00", end="17:00"),
    sla=SLASettings(p1_minutes=15, p2_minutes=240, p3_minutes=1440),
    teams={"alice": "emea", "bob": "emea", "chen": "us"},
    brand_terms=("Acme",),
)


def b(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def week_query(**kw):
    return parse_query(now=NOW, start="2026-11-27", end="2026-12-03", timezone="Europe/Berlin", **kw)


@pytest.fixture
def week(engine):
    ids = {}
    ids["A"] = add_mention(
        engine,
        created_at=b(2026, 11, 27, 16, 50),
        label="complaint",
        priority="P1",
        polarity=-0.6,
        author_handle="carol",
        text="My Acme order arrived broken and the refund never came",
    )
    ids["B"] = add_mention(
        engine,
        platform="reddit",
        created_at=b(2026, 11, 28, 10, 0),
        label="complaint",
        priority="P2",
        polarity=-0.5,
        author_handle="dave",
        text="refund still missing after two weeks",
    )
    ids["C"] = add_mention(
        engine,
        created_at=b(2026, 11, 30, 8, 0),
        label="complaint",
        priority="P1",
        polarity=-0.4,
        author_handle="erin",
        text="order arrived broken again @acme_help",
    )
    ids["D"] = add_mention(
        engine,
        created_at=b(2026, 12, 1, 10, 0),
        label="question",
        priority="P3",
        polarity=0.1,
        author_handle="fay",
        text="do you ship to Norway?",
    )
    ids["E"] = add_mention(
        engine,
        created_at=b(2026, 12, 2, 9, 0),
        label="complaint",
        priority="P1",
        polarity=-0.7,
        author_handle="gus",
        text="app crashes at login https://acme.example/x",
    )
    ids["F"] = add_mention(
        engine, created_at=b(2026, 12, 3, 9, 30), label="question", priority="P3", author_handle="hal"
    )
    ids["G"] = add_mention(
        engine,
        created_at=b(2026, 12, 2, 9, 0),
        label="complaint",
        priority="P1",
        status="ignored",
        polarity=-0.2,
        author_handle="ivy",
        text="spammy rant",
    )
    ids["H"] = add_mention(
        engine,
        created_at=b(2026, 12, 2, 11, 0),
        label="praise",
        priority="P3",
        polarity=0.8,
        author_handle="jo",
    )
    # dave posts again before anything is rolled up; carol only after the first catch-up.
    ids["dave2"] = add_mention(
        engine,
        platform="reddit",
        created_at=b(2026, 12, 1, 15, 0),
        label="complaint",
        priority="P2",
        polarity=-0.8,
        author_handle="dave",
        text="still no refund, terrible support",
    )
    first_response(engine, ids["A"], b(2026, 11, 30, 9, 4), "alice")
    first_response(engine, ids["B"], b(2026, 11, 30, 13, 30), "bob")
    first_response(engine, ids["C"], b(2026, 11, 30, 9, 10), "chen")
    first_response(engine, ids["D"], b(2026, 12, 1, 12, 0), "alice")
    catch_up(engine, SETTINGS.rollup)
    ids["carol2"] = add_mention(
        engine,
        created_at=b(2026, 11, 30, 12, 0),
        label="neutral",
        priority="P3",
        polarity=0.3,
        author_handle="carol",
        text="got it sorted, thanks",
    )
    return ids


def test_first_response_sla_in_business_hours_per_agent_and_team(engine, week):
    r = build(engine, ["response"], week_query(), SETTINGS, NOW)["response"]
    assert r.overall.responded == 4
    assert r.overall.within == {"15 min": 2, "1 h": 2, "4 h": 3, "24 h": 4}
    assert r.overall.sla_met == 3
    # E, and dave's second complaint (P2, Tue 15:00: due Wed 11:00); F is not due yet, G ignored, H praise.
    assert r.overdue_unanswered == 2
    assert r.sla_pct == 50.0  # 3 met of 4 answered + 2 overdue
    assert r.histogram == [("≤ 15 min", 2), ("15 min–1 h", 0), ("1 h–4 h", 1), ("4 h–24 h", 1), ("> 24 h", 0)]
    agents = {a.name: (a.responded, a.sla_met, a.sla_pct) for a in r.agents}
    assert agents == {"alice": (2, 2, 100.0), "bob": (1, 0, 0.0), "chen": (1, 1, 100.0)}
    teams = {t.name: (t.responded, t.sla_met, t.sla_pct) for t in r.teams}
    assert teams == {"emea": (3, 2, 66.7), "us": (1, 1, 100.0)}
    assert r.overall.total_seconds == (14 * 60) + (4.5 * 3600) + (10 * 60) + (2 * 3600)


def test_first_response_around_the_clock(engine, week):
    r = build(engine, ["response"], week_query(hours="all"), SETTINGS, NOW)["response"]
    # Wall clock: A 2 d 16 h, B 51.5 h, C 70 min, D 2 h -> only D within its SLA.
    assert r.overall.sla_met == 1
    assert r.overall.within == {"15 min": 0, "1 h": 0, "4 h": 2, "24 h": 2}


def test_platform_filter(engine, week):
    r = build(engine, ["response"], week_query(platform="reddit"), SETTINGS, NOW)["response"]
    assert [(a.name, a.responded) for a in r.agents] == [("bob", 1)]
    assert r.overdue_unanswered == 1  # dave's second complaint


def test_volume_and_sentiment_per_platform_with_a_label_correction(engine, week):
    workflow.correct_label(engine, week["E"], "question", actor="alice", now=NOW)
    v = build(engine, ["volume"], week_query(), SETTINGS, NOW)["volume"]
    assert v.platforms == ["mastodon", "reddit"]
    assert v.total("mastodon") == 8 and v.total("reddit") == 2
    assert v.query.by_day and len(v.buckets) == 7  # Fri 27 Nov .. Thu 3 Dec, Berlin days
    wed = v.point(datetime(2026, 12, 2, tzinfo=BERLIN), "mastodon")
    assert wed.mentions == 3  # E, G, H
    assert wed.by_label["complaint"] == 1 and wed.by_label["question"] == 1  # E moved to question
    assert wed.avg_polarity == round((-0.7 - 0.2 + 0.8) / 3, 3)
    assert wed.negative_share == round(2 / 3, 3)
    reddit = [p for (_, plat), p in v.points.items() if plat == "reddit"]
    assert sum(p.by_label.get("complaint", 0) for p in reddit) == 2
    rows = v.rows()
    assert len(rows) == 7 * 2 and {"bucket", "platform", "mentions", "complaint", "avg_polarity"} <= set(
        rows[0]
    )


def test_hourly_buckets_for_a_day(engine, week):
    q = parse_query(now=NOW, range_name="24h", timezone="Europe/Berlin")
    v = build(engine, ["volume"], q, SETTINGS, NOW)["volume"]
    assert not q.by_day and len(v.buckets) == 24
    assert v.total() == 2  # H (Wed 11:00) and F; E and G (Wed 09:00) are older than 24 h


def test_open_complaints_by_age(engine, week):
    o = build(engine, ["open"], week_query(), SETTINGS, NOW)["open"]
    # E new, 25 h old; dave2 new, 1 d 19 h; A replied 5 d 17 h; C replied 3 d 2 h; B resolved? no: replied.
    assert o.counts["1–3 d"] == {"new": 2, "acknowledged": 0, "replied": 0}
    assert o.counts["3–7 d"] == {"new": 0, "acknowledged": 0, "replied": 3}
    assert o.total == 5
    workflow.resolve(engine, [week["A"]], actor="alice", now=NOW)
    o = build(engine, ["open"], week_query(), SETTINGS, NOW)["open"]
    assert o.counts["3–7 d"]["replied"] == 2


def test_top_topics_and_repeat_complainers(engine, week):
    got = build(engine, ["topics", "complainers"], week_query(), SETTINGS, NOW)
    topics = [(t.phrase, t.complaints) for t in got["topics"].topics]
    assert topics == [
        ("refund", 3),
        ("arrived", 2),
        ("arrived broken", 2),
        ("broken", 2),
        ("order", 2),
        ("order arrived", 2),
    ]
    assert "acme" not in {t.phrase for t in got["topics"].topics}  # brand terms are not topics
    complainers = [(a.platform, a.handle, a.complaints) for a in got["complainers"].authors]
    assert complainers == [("reddit", "dave", 2)]


def test_recovery_after_a_reply(engine, week):
    rec = build(engine, ["recovery"], week_query(), SETTINGS, NOW)["recovery"]
    # A (carol: -0.6 then +0.3) recovered; B (dave: -0.5 then -0.8) did not; C's author never posted again.
    assert (rec.overall.replied, rec.overall.followed_up, rec.overall.recovered) == (3, 2, 1)
    assert rec.overall.pct == 50.0
    per = {s.platform: (s.replied, s.followed_up, s.recovered) for s in rec.platforms}
    assert per == {"mastodon": (2, 1, 1), "reddit": (1, 1, 0)}


def test_catch_up_twice_counts_once_and_new_hours_retime_responses(engine, week):
    catch_up(engine, SETTINGS.rollup)
    again = catch_up(engine, SETTINGS.rollup)
    assert (again.mentions, again.responses, again.corrections) == (0, 0, 0)
    v = build(engine, ["volume"], week_query(), SETTINGS, NOW)["volume"]
    assert v.total() == 10
    # Weekends open too: B (Sat 10:00 -> Mon 13:30) now counts its Saturday and Sunday hours.
    seven = ReportSettings(
        business_hours=BusinessHours(
            timezone="Europe/Berlin",
            days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            start="09:00",
            end="17:00",
        ),
        sla=SETTINGS.sla,
        teams=SETTINGS.teams,
    )
    r = build(engine, ["response"], week_query(), seven, NOW)["response"]
    bob = next(a for a in r.agents if a.name == "bob")
    assert bob.total_seconds == (7 + 8 + 4.5) * 3600


def test_concurrent_catch_ups_count_each_mention_once(engine):
    for i in range(300):
        add_mention(engine, created_at=b(2026, 12, 1, 9, i % 60), label="complaint", text=f"broken item {i}")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            catch_up(engine, SETTINGS.rollup, batch=50)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    h = m.ReportHourly.__table__
    with engine.connect() as conn:
        assert conn.execute(select(h.c.n)).scalars().all() == [300]


def test_coverage_gaps_overlapping_the_period(engine):
    g = m.CoverageGap.__table__
    c = m.SourceCursor.__table__
    # A steady 6 mentions an hour from the watched source in the week before the gap.
    start = b(2026, 11, 21, 3, 0)
    steady = [
        {
            "platform": "x",
            "external_id": f"steady{n}",
            "source": "x-search",
            "author_handle": f"a{n}",
            "text": "hi",
            "created_at": start + n * TEN_MIN,
            "fetched_at": start + n * TEN_MIN,
            "label": "neutral",
            "polarity": 0.0,
            "status": "resolved",
        }
        for n in range(7 * 24 * 6)
    ]
    with engine.begin() as conn:
        conn.execute(m.Mention.__table__.insert(), steady)
        conn.execute(c.insert().values(source="x-search", platform="x"))
        conn.execute(c.insert().values(source="bsky", platform="bluesky"))
        conn.execute(
            g.insert(),
            [
                {
                    "source": "x-search",
                    "start": b(2026, 11, 28, 2, 10),
                    "end": b(2026, 11, 28, 5, 40),
                    "reason": "429",
                    "estimated_missed": None,
                },
                {
                    "source": "bsky",
                    "start": b(2026, 11, 29, 1, 0),
                    "end": b(2026, 11, 29, 2, 0),
                    "reason": "down",
                    "estimated_missed": 31,
                },
                {
                    "source": "bsky",
                    "start": b(2026, 12, 3, 9, 0),
                    "end": None,
                    "reason": "auth failed",
                    "estimated_missed": None,
                },
                {
                    "source": "x-search",
                    "start": b(2026, 11, 1, 0, 0),
                    "end": b(2026, 11, 2, 0, 0),
                    "reason": "old",
                    "estimated_missed": None,
                },
            ],
        )
    catch_up(engine, SETTINGS.rollup)
    with engine.connect() as conn:
        gaps = coverage_gaps(conn, week_query(), NOW)
        assert [(x.source, x.estimated_missed, x.estimate_from_rate) for x in gaps] == [
            ("x-search", 21, True),  # 3.5 h x 6 an hour
            ("bsky", 31, False),
            ("bsky", None, True),  # no history: no guess
        ]
        assert gaps[0].text("Europe/Berlin") == "x-search blind 28 Nov 02:10–05:40, ~21 posts missed"
        assert gaps[2].text("Europe/Berlin") == "bsky blind 03 Dec 09:00–now"
        only_x = coverage_gaps(conn, week_query(platform="x"), NOW)
        assert [x.source for x in only_x] == ["x-search"]
    # Every report carries them, and the day buckets they touch are flagged for the chart.
    v = build(engine, ["volume"], week_query(), SETTINGS, NOW)["volume"]
    assert len(v.gaps) == 3
    assert v.gap_buckets(NOW) == [False, True, True, False, False, False, True]


def test_bad_period_values_name_the_field():
    with pytest.raises(PeriodError) as e:
        parse_query(now=NOW, range_name="5y")
    assert e.value.field == "range"
    with pytest.raises(PeriodError) as e:
        parse_query(now=NOW, start="yesterday")
    assert e.value.field == "from"
    with pytest.raises(PeriodError) as e:
        parse_query(now=NOW, start="2026-12-03", end="2026-12-01")
    assert e.value.field == "to"
    with pytest.raises(PeriodError) as e:
        parse_query(now=NOW, hours="sometimes")
    assert e.value.field == "hours"


TEN_MIN = timedelta(minutes=10)
