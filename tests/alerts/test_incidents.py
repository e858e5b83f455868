"""Storm folding: an outage's flood of complaints becomes one incident alert plus count updates."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from monitor.alerts.incidents import bucket_counts, is_storm, storm_threshold
from monitor.alerts.notifier import Notifier
from monitor.alerts.settings import IncidentSettings
from monitor.store import models as m
from tests.alerts.conftest import make_config, mention, pipeline


def _config(receiver, **incidents):
    return make_config(
        {
            "routes": [
                {
                    "name": "support",
                    "match": {"labels": ["complaint"], "priority": "P2"},
                    "notify": [receiver.hook()],
                }
            ],
            "incidents": {"min_count": 8, "window_minutes": 10, "update_minutes": 5, **incidents},
            "author_window_minutes": 30,
        }
    )


def _kinds(engine) -> list[tuple[str, str]]:
    with Session(engine) as s:
        return [(a.kind, a.key) for a in s.exec(select(m.AlertOutbox).order_by(m.AlertOutbox.id)).all()]


def test_threshold_is_the_largest_of_floor_factor_and_sigma():
    s = IncidentSettings(min_count=8, factor=4, sigma=3)
    assert storm_threshold([], s) == 8
    assert storm_threshold([0, 0, 1, 0], s) > 0.25 * 4  # sigma term dominates a spiky quiet baseline
    assert storm_threshold([10] * 20, s) == 40  # busy brand: four times the usual rate
    assert not is_storm(39, [10] * 20, s) and is_storm(40, [10] * 20, s)


def test_bucket_counts_include_empty_buckets(clock):
    start = clock.now
    times = [start + timedelta(minutes=x) for x in (1, 2, 25, 59)]
    assert bucket_counts(times, start, start + timedelta(hours=1), timedelta(minutes=10)) == [
        2,
        0,
        1,
        0,
        0,
        1,
    ]


def test_a_storm_folds_into_one_incident_with_updates(engine, receiver, clock):
    config = _config(receiver)
    pipe = pipeline(engine, config, clock)
    notifier = Notifier(engine, config, clock=clock)
    # A normal day: one low-priority complaint an hour (stored, counted, not alerted).
    pipe.ingest(
        [mention(clock.now, priority="P3", ago=timedelta(hours=h, minutes=30)) for h in range(1, 24)],
        source="x",
    )
    assert notifier.deliver_due() == 0

    # The outage: 40 complaints in five minutes, one of them from a big account.
    for page in range(8):
        clock.advance(seconds=40)
        batch = [mention(clock.now, text="app is down, cannot log in") for _ in range(5)]
        if page == 5:
            batch[0] = mention(clock.now, text="app down for me too", followers=250_000, handle="bigvoice")
        pipe.ingest(batch, source="x")
        notifier.deliver_due()

    kinds = [k for k, _ in _kinds(engine)]
    # The first page (5) alerted before the storm was recognisable; then one incident, and the big account.
    assert kinds.count("mention") == 6
    assert kinds.count("incident") == 1
    with Session(engine) as s:
        [incident] = s.exec(select(m.Incident)).all()
        members = s.exec(select(m.Mention).where(m.Mention.incident_id == incident.id)).all()
        big = s.exec(select(m.Mention).where(m.Mention.author_handle == "bigvoice")).one()
    assert incident.count == 40 == len(members)
    assert big.incident_id == incident.id
    posts = receiver.posts()
    assert len(posts) == 7  # not 40
    opening = next(p for p in posts if p["title"].startswith(f"Incident #{incident.id} (new)"))
    assert opening["message"].startswith("10 mentions since 10:01 UTC")
    assert "Sentiment trend: -0.70" in opening["message"]
    assert any("Part of incident" in p["message"] and "bigvoice" in p["message"] for p in posts)

    # Updates: at most every update_minutes, only when the count grew.
    assert notifier.run_jobs(clock.now) == 0  # grew, but the opening alert went out 4 min ago
    clock.advance(minutes=1)
    pipe.ingest([mention(clock.now, text="still down") for _ in range(3)], source="x")
    assert notifier.run_jobs(clock.now) == 1
    assert notifier.run_jobs(clock.now) == 0
    notifier.deliver_due()
    update = receiver.posts()[-1]
    assert update["title"] == f"Incident #{incident.id} (update) · 43 complaints on x"
    assert "Highest reach: @\u200bbigvoice (250k followers)" in update["message"]

    # Quiet for quiet_minutes: it closes without another message (nothing new since the update).
    clock.advance(minutes=31)
    assert notifier.run_jobs(clock.now) == 0
    with Session(engine) as s:
        assert s.get(m.Incident, incident.id).status == "closed"

    # A new storm inside the cooldown reopens the same incident: no second "new incident" ping.
    clock.advance(minutes=5)
    for _ in range(3):
        clock.advance(seconds=30)
        pipe.ingest([mention(clock.now, text="down again") for _ in range(4)], source="x")
    with Session(engine) as s:
        assert len(s.exec(select(m.Incident)).all()) == 1
        assert s.get(m.Incident, incident.id).status == "open"
    assert [k for k, _ in _kinds(engine)].count("incident") == 2  # open + one update, nothing new yet


def test_after_the_cooldown_a_new_storm_is_a_new_incident(engine, receiver, clock):
    config = _config(receiver, cooldown_minutes=10, quiet_minutes=10)
    pipe = pipeline(engine, config, clock)
    notifier = Notifier(engine, config, clock=clock)
    pipe.ingest([mention(clock.now, priority="P3", ago=timedelta(hours=3))], source="x")  # some history
    pipe.ingest([mention(clock.now) for _ in range(10)], source="x")
    clock.advance(minutes=11)
    notifier.run_jobs(clock.now)  # closes the first
    clock.advance(minutes=30)
    pipe.ingest([mention(clock.now) for _ in range(10)], source="x")
    with Session(engine) as s:
        incidents = s.exec(select(m.Incident).order_by(m.Incident.id)).all()
    assert [i.status for i in incidents] == ["closed", "open"]
    opens = [k for kind, k in _kinds(engine) if kind == "incident" and ":open:" in k]
    assert len(opens) == 2


def test_same_author_or_thread_alerts_once_per_window(engine, receiver, clock):
    config = _config(receiver)
    pipe = pipeline(engine, config, clock)
    pipe.ingest([mention(clock.now, handle="angry")], source="x")
    clock.advance(minutes=5)
    pipe.ingest([mention(clock.now, handle="angry"), mention(clock.now, handle="angry")], source="x")
    clock.advance(minutes=5)
    # A reply by someone else in a thread that already alerted is folded too.
    pipe.ingest([mention(clock.now, handle="t1", conversation="c1")], source="x")
    pipe.ingest([mention(clock.now, handle="t2", conversation="c1")], source="x")
    # More urgent than what alerted: goes through.
    pipe.ingest([mention(clock.now, handle="angry", priority="P1")], source="x")
    clock.advance(minutes=31)
    pipe.ingest([mention(clock.now, handle="angry")], source="x")
    assert Notifier(engine, config, clock=clock).deliver_due() == 4


def test_no_storm_without_history(engine, receiver, clock):
    # A fresh install's first poll brings many complaints at once: not an outage, nothing known yet.
    config = _config(receiver)
    pipe = pipeline(engine, config, clock)
    pipe.ingest([mention(clock.now) for _ in range(20)], source="x")
    assert [k for k, _ in _kinds(engine)] == ["mention"] * 20
    # An hour later the same burst is a storm.
    clock.advance(hours=2)
    pipe.ingest([mention(clock.now) for _ in range(20)], source="x")
    assert [k for k, _ in _kinds(engine)].count("incident") == 1
