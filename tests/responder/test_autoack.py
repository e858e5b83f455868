"""Auto-acknowledge: complaints only, once per author per window, capped per hour, flagged, clock running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from monitor import workflow
from monitor.responder import autoack
from monitor.responder.sender import Sender
from monitor.store import models as m
from tests.responder.conftest import DEAD_HOOK, ingest, make_config, mention_row, reply_rows

ACK = "Hi {author}, sorry about this. A person from {brand} will reply within {window}."


def _config(fake, **auto):
    route = {"name": "support", "match": {"labels": ["complaint"]}, "notify": [DEAD_HOOK]}
    return make_config(
        fake,
        # Every complaint alerts (no per-author alert window), so only auto-ack's own window applies.
        alerts={"routes": [route], "author_window_minutes": 0},
        responder={
            "templates": {"ack": ACK},
            "window": "4 hours",
            "auto_ack": {"enabled": True, "routes": ["support"], "template": "ack", **auto},
        },
    )


def test_once_per_author_per_window_and_never_for_praise(engine, mastodon):
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    first = mastodon.add_mention(
        "my order is late", author="alice", display_name="Alice @everyone", created_at=t0
    )
    second = mastodon.add_mention("still no answer", author="alice", created_at=t0 + timedelta(minutes=1))
    praise = mastodon.add_mention("love the new app!", author="bob", created_at=t0 + timedelta(minutes=2))
    praise["label"] = "praise"  # the scripted triage reads the label from the post
    config = _config(mastodon)
    ids = ingest(engine, config, "mastodon")
    by_ext = {mention_row(engine, i).external_id: i for i in ids}
    now = datetime.now(UTC)

    preview = autoack.run(engine, config, now=now, dry_run=True)
    assert reply_rows(engine) == []  # a dry run writes nothing
    chosen = [d for d in preview if d.send]
    assert [d.mention_id for d in chosen] == [by_ext[first["id"]]]
    # the display name cannot @-mention anyone; the handle is prefixed (Mastodon)
    assert (
        chosen[0].text
        == "@alice Hi Alice everyone, sorry about this. A person from Acme will reply within 4 hours."[:200]
    )
    skipped = {d.mention_id: d.reason for d in preview if not d.send}
    assert "already got an automatic reply" in skipped[by_ext[second["id"]]]
    assert by_ext[praise["id"]] not in skipped  # praise is not even a candidate

    autoack.run(engine, config, now=now)
    autoack.run(engine, config, now=now + timedelta(minutes=5))  # a second pass adds nothing
    rows = reply_rows(engine)
    assert [(r.mention_id, r.automatic, r.author) for r in rows] == [(by_ext[first["id"]], True, "auto-ack")]

    sender = Sender(engine, config, jobs=False)
    sender.send_due()
    sender.close()
    assert len(mastodon.replies) == 1
    acked = mention_row(engine, by_ext[first["id"]])
    assert acked.reply_status == "sent"
    assert acked.first_response_at is None and acked.status != "replied"  # the clock keeps running
    listed = workflow.list_replies(engine, mention_id=acked.id)
    assert listed[0]["automatic"] is True


def test_hourly_cap_and_incident_members(engine, mastodon):
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    for i, who in enumerate(("carol", "dave", "erin")):
        mastodon.add_mention("the site is down", author=who, created_at=t0 + timedelta(minutes=i))
    config = _config(mastodon, max_per_hour=2)
    ids = ingest(engine, config, "mastodon")
    decisions = autoack.plan(engine, config, now=datetime.now(UTC))
    assert [d.send for d in decisions] == [True, True, False]
    assert "hourly cap of 2" in decisions[2].reason

    # The first one is folded into an incident: skipped unless incident_members is on.
    t = m.Mention.__table__
    with engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == ids[0]).values(incident_id=7))
    decisions = autoack.plan(engine, config, now=datetime.now(UTC))
    assert "part of incident #7" in decisions[0].reason and not decisions[0].send
    assert [d.send for d in decisions[1:]] == [True, True]
    with_members = _config(mastodon, max_per_hour=5, incident_members=True)
    assert all(d.send for d in autoack.plan(engine, with_members, now=datetime.now(UTC)))


def test_a_person_claiming_first_is_not_overridden(engine, mastodon):
    mastodon.add_mention("refund missing", author="gina")
    config = _config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    workflow.request_reply(engine, config, mid, text="Hi Gina, checking.", actor="bob")
    assert autoack.plan(engine, config, now=datetime.now(UTC)) == []
