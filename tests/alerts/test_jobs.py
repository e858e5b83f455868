"""Escalation timing, operator alerts and the digest, with a clock the test controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from monitor import workflow
from monitor.alerts.digest import last_period
from monitor.alerts.escalation import escalation_due
from monitor.alerts.notifier import Notifier
from monitor.alerts.settings import SLASettings
from monitor.store import models as m
from tests.alerts.conftest import make_config, mention, pipeline
from tests.fakes.server import Response


def _alerts(engine, kind: str) -> list[m.AlertOutbox]:
    with Session(engine) as s:
        return list(s.exec(select(m.AlertOutbox).where(m.AlertOutbox.kind == kind)).all())


def test_escalation_due_is_sla_minutes_after_the_alert():
    t0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    sla = SLASettings()
    assert not escalation_due(t0, "P1", sla, t0 + timedelta(minutes=14, seconds=59), acknowledged=False)
    assert escalation_due(t0, "P1", sla, t0 + timedelta(minutes=15), acknowledged=False)
    assert not escalation_due(t0, "P1", sla, t0 + timedelta(hours=3), acknowledged=True)
    assert not escalation_due(t0, "P2", sla, t0 + timedelta(hours=3, minutes=59), acknowledged=False)
    assert escalation_due(t0, "P2", sla, t0 + timedelta(hours=4), acknowledged=False)


def test_unacknowledged_p1_escalates_once_to_the_escalation_route(engine, receiver, clock):
    config = make_config(
        {
            "routes": [
                {"name": "urgent", "match": {"priority": "P2"}, "notify": [receiver.hook("/agents")]},
                {"name": "leads", "match": {"platforms": ["nowhere"]}, "notify": [receiver.hook("/leads")]},
            ],
            "escalation": {"route": "leads"},
        }
    )
    pipe = pipeline(engine, config, clock)
    notifier = Notifier(engine, config, clock=clock)
    pipe.ingest(
        [mention(clock.now, priority="P1", handle="a"), mention(clock.now, priority="P1", handle="b")],
        source="x",
    )
    pipe.ingest([mention(clock.now, priority="P2", handle="c")], source="x")
    notifier.deliver_due()
    with Session(engine) as s:
        ids = {mm.author_handle: mm.id for mm in s.exec(select(m.Mention)).all()}
    workflow.acknowledge(engine, [ids["b"]], actor="agent", now=clock.now)

    clock.advance(minutes=14)
    assert notifier.run_jobs(clock.now) == 0
    clock.advance(minutes=1)
    assert notifier.run_jobs(clock.now) == 1  # "a" only: "b" was acknowledged, "c" is P2 (4 h)
    assert notifier.run_jobs(clock.now) == 0  # once
    notifier.deliver_due()
    [post] = receiver.posts("/leads")
    assert post["title"].startswith("ESCALATED · P1 complaint on x")
    assert "Not acknowledged within the P1 SLA" in post["message"]
    assert f"mention #{ids['a']}" in post["message"]

    clock.advance(hours=4)
    assert notifier.run_jobs(clock.now) == 1  # now "c" (P2)
    [esc_a, esc_c] = sorted(_alerts(engine, "escalation"), key=lambda a: a.id)
    assert (esc_a.mention_id, esc_c.mention_id) == (ids["a"], ids["c"])


def test_a_p1_the_team_relabelled_spam_is_not_escalated(engine, receiver, clock):
    """Escalation chases unacknowledged mentions by their current priority: a relabel to spam
    (P3, see workflow._ranked) stops it without acknowledging the mention."""
    config = make_config(
        {"routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": [receiver.hook()]}]}
    )
    pipeline(engine, config, clock).ingest(
        [mention(clock.now, priority="P1", handle="a"), mention(clock.now, priority="P1", handle="b")],
        source="x",
    )
    with Session(engine) as s:
        ids = {mm.author_handle: mm.id for mm in s.exec(select(m.Mention)).all()}
    assert workflow.correct_label(engine, ids["b"], "spam", actor="agent", now=clock.now).result == "changed"
    notifier = Notifier(engine, config, clock=clock)
    notifier.deliver_due()
    clock.advance(minutes=16)
    assert notifier.run_jobs(clock.now) == 1
    [esc] = _alerts(engine, "escalation")
    assert esc.mention_id == ids["a"]


def test_escalation_defaults_to_the_original_route(engine, receiver, clock):
    config = make_config(
        {"routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": [receiver.hook()]}]}
    )
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    notifier = Notifier(engine, config, clock=clock)
    clock.advance(minutes=16)
    notifier.run_jobs(clock.now)
    [esc] = _alerts(engine, "escalation")
    assert esc.route == "urgent"


def test_operators_hear_about_a_failing_source_target_and_backlog(engine, receiver, clock):
    config = make_config(
        {
            "routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": [receiver.hook("/chat")]}],
            "operators": [receiver.hook("/ops")],
            "operator_checks": {
                "source_failing_minutes": 15,
                "target_failing_minutes": 10,
                "backlog_minutes": 20,
                "repeat_minutes": 60,
            },
            "retry": {"base_delay": 60, "max_delay": 120},
            "escalation": {"enabled": False},
        }
    )
    with Session(engine) as s:
        s.add(
            m.SourceCursor(
                source="x-main",
                platform="x",
                state="auth_failed",
                state_since=clock.now,
                consecutive_failures=4,
                last_error="401 Unauthorized: token revoked",
            )
        )
        s.commit()
    receiver.fail(Response(500), path="/chat", times=100)
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    notifier = Notifier(engine, config, clock=clock)
    notifier.deliver_due()
    assert notifier.run_jobs(clock.now) == 0

    clock.advance(minutes=11)
    notifier.deliver_due()
    assert notifier.run_jobs(clock.now) == 1  # the chat target, failing for 11 min
    clock.advance(minutes=5)
    assert notifier.run_jobs(clock.now) == 1  # the source, unhealthy for 16 min
    clock.advance(minutes=5)
    assert notifier.run_jobs(clock.now) == 1  # the backlog: an alert undelivered for 21 min
    assert notifier.run_jobs(clock.now) == 0  # no repeats within repeat_minutes
    notifier.deliver_due()
    titles = sorted(p["title"] for p in receiver.posts("/ops"))
    assert len(titles) == 3
    assert any("source x-main is auth_failed for 16 min" in t for t in titles)
    assert any("notification target json://127.0.0.1" in t and "failing for 11 min" in t for t in titles)
    assert any("1 alert delivery(ies) waiting, oldest 21 min" in t for t in titles)
    ops = " ".join(p["message"] for p in receiver.posts("/ops"))
    assert "token revoked" in ops
    clock.advance(minutes=61)
    assert notifier.run_jobs(clock.now) == 3  # still broken an hour later: one reminder each


def test_digest_holds_p3_and_summarises_the_day(engine, receiver, clock):
    config = make_config(
        {
            "routes": [
                {"name": "team", "match": {"priority": "P3"}, "notify": [receiver.hook("/team")]},
            ],
            "digest": {"route": "team", "every": "daily", "top": 2},
            "business_hours": {"timezone": "Europe/Berlin"},
            "escalation": {"enabled": False},
        }
    )
    pipe = pipeline(engine, config, clock)
    pipe.ingest(
        [
            mention(clock.now, priority="P3", text="meh, slow checkout", urgency=30, handle="p3a"),
            mention(clock.now, priority="P3", text="refund still missing", urgency=45, handle="p3b"),
            mention(clock.now, priority="P3", label="praise", text="love it", polarity=0.8, handle="fan"),
        ],
        source="x",
    )
    pipe.ingest([mention(clock.now, priority="P2", text="charged twice", handle="p2")], source="x")
    notifier = Notifier(engine, config, clock=clock)
    notifier.deliver_due()
    [p2_alert] = receiver.posts("/team")  # P3s held; the P2 alerts as usual
    assert "charged twice" in p2_alert["message"]
    assert notifier.run_jobs(clock.now) == 0  # the day is not over yet

    clock.now = datetime(2026, 11, 18, 23, 5, tzinfo=UTC)  # 00:05 in Berlin
    assert notifier.run_jobs(clock.now) == 1
    assert notifier.run_jobs(clock.now) == 0
    notifier.deliver_due()
    digest = receiver.posts("/team")[-1]
    assert digest["title"] == "Mentions digest 2026-11-17 23:00–23:00 UTC · 4 total"
    assert "Volume: 4 (complaint 3, praise 1)" in digest["message"]
    assert "3 low-priority (P3) mention(s) were held" in digest["message"]
    top = digest["message"].split("Top complaints:")[1]
    assert "[P2]" in top and "refund still missing" in top and "slow checkout" not in top


def test_last_period_follows_local_days_and_dst():
    # 2026-10-25: Berlin leaves summer time, so that local day is 25 hours long.
    start, end = last_period(datetime(2026, 10, 26, 8, 0, tzinfo=UTC), "daily", "Europe/Berlin")
    assert (start, end) == (
        datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
    )
    start, end = last_period(datetime(2026, 10, 26, 8, 30, tzinfo=UTC), "hourly", "UTC")
    assert (start, end) == (
        datetime(2026, 10, 26, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    )


def test_operators_hear_once_when_things_recover(engine, receiver, clock):
    config = make_config(
        {
            "routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": [receiver.hook("/chat")]}],
            "operators": [receiver.hook("/ops")],
            "operator_checks": {
                "source_failing_minutes": 15,
                "target_failing_minutes": 10,
                "backlog_minutes": 999,
            },
            "retry": {"base_delay": 60, "max_delay": 120},
            "escalation": {"enabled": False},
        }
    )
    with Session(engine) as s:
        s.add(
            m.SourceCursor(source="masto", platform="mastodon", state="rate_limited", state_since=clock.now)
        )
        s.commit()
    receiver.fail(Response(502), path="/chat", times=2)
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    notifier = Notifier(engine, config, clock=clock, rand=lambda: 0.5)
    notifier.deliver_due()
    clock.advance(minutes=11)
    notifier.deliver_due()  # second failure
    clock.advance(minutes=5)
    assert notifier.run_jobs(clock.now) == 2  # target failing 16 min, source limited 16 min
    notifier.deliver_due()  # third attempt succeeds
    with Session(engine) as s:
        cursor = s.get(m.SourceCursor, "masto")
        cursor.state = "ok"
        s.add(cursor)
        s.commit()
    assert notifier.run_jobs(clock.now) == 2
    assert notifier.run_jobs(clock.now) == 0
    clock.advance(hours=2)
    assert notifier.run_jobs(clock.now) == 0  # recovered problems are not reminded about
    notifier.deliver_due()
    titles = [p["title"] for p in receiver.posts("/ops")]
    assert sum("recovered" in t for t in titles) == 2
    assert "mention-monitor: source masto recovered" in titles
    assert any(
        t.startswith("mention-monitor: notification target json://127.0.0.1") and "recovered" in t
        for t in titles
    )
