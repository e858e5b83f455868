"""Claims and collisions, the first-response clock, Bluesky facets, incident status replies, follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from monitor import workflow
from monitor.responder.sender import Sender
from monitor.store import models as m
from tests.responder.conftest import ingest, make_config, mention_row, reply_rows


def send_all(engine, config) -> int:
    sender = Sender(engine, config, jobs=False)
    try:
        return sender.send_due()
    finally:
        sender.close()


def test_claim_collision_names_the_other_agent(engine, mastodon):
    mastodon.add_mention("charged twice")
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    now = datetime.now(UTC)
    [claimed] = workflow.claim(engine, [mid], actor="alice", now=now)
    assert claimed.result == "changed" and claimed.status == "acknowledged"
    with pytest.raises(workflow.Conflict) as exc:
        workflow.claim(engine, [mid], actor="bob", now=now + timedelta(minutes=3))
    assert exc.value.by == "alice" and exc.value.what == "claimed" and exc.value.at == now
    assert "already claimed by alice 3 min ago" in str(exc.value)
    with pytest.raises(workflow.Conflict, match="claimed by alice"):
        workflow.request_reply(engine, config, mid, text="Hi!", actor="bob")
    assert reply_rows(engine) == []
    assert mention_row(engine, mid).claimed_by == "alice"
    workflow.release_claim(engine, [mid], actor="alice")
    assert workflow.request_reply(engine, config, mid, text="Hi!", actor="bob").status == "pending"
    assert mention_row(engine, mid).claimed_by == "bob"  # replying claims it


def test_stale_version_is_refused_naming_who_changed_it(engine, mastodon):
    mastodon.add_mention("app crashes")
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    seen = mention_row(engine, mid).version
    [ack] = workflow.acknowledge(engine, [mid], actor="carol")
    assert ack.version == seen + 1
    with pytest.raises(workflow.Conflict) as exc:
        workflow.request_reply(engine, config, mid, text="Hello", actor="alice", expect_version=seen)
    assert exc.value.by == "carol" and exc.value.what == "acknowledged"
    ok = workflow.request_reply(engine, config, mid, text="Hello", actor="alice", expect_version=seen + 1)
    assert ok.version == seen + 2


def test_someone_else_already_replied(engine, mastodon):
    mastodon.add_mention("no refund yet")
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    workflow.request_reply(engine, config, mid, text="Looking now", actor="bob")
    send_all(engine, config)
    workflow.release_claim(engine, [mid], actor="bob")
    with pytest.raises(workflow.Conflict, match="already replied to by bob") as exc:
        workflow.request_reply(engine, config, mid, text="Me too", actor="dana")
    assert exc.value.by == "bob"
    current = mention_row(engine, mid).version
    # having seen bob's reply (the current version), dana may add hers
    workflow.request_reply(engine, config, mid, text="Me too", actor="dana", expect_version=current)
    send_all(engine, config)
    assert len(mastodon.replies) == 2
    row = mention_row(engine, mid)
    assert row.first_responder == "bob"  # the clock stopped at the first confirmed person's reply


def test_bluesky_facets_point_at_the_right_bytes_with_emoji(engine, bluesky):
    bluesky.known_handles.add("carol.bsky.social")
    bluesky.add_mention("🔥🔥 the sync is broken", author="alice.bsky.social")
    config = make_config(bluesky)
    [mid] = ingest(engine, config, "bluesky")
    text = "🎉👩‍💻 Thanks @alice.bsky.social! Status: https://status.acme.example/i/42"
    text += " — ping @carol.bsky.social 👍"
    workflow.request_reply(engine, config, mid, text=text, actor="bob")
    send_all(engine, config)
    [post] = bluesky.replies
    record = post["record"]
    data = record["text"].encode("utf-8")
    spans = {
        data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"): f["features"][0]
        for f in record["facets"]
    }
    assert spans["@alice.bsky.social"] == {
        "$type": "app.bsky.richtext.facet#mention",
        "did": bluesky.did_for("alice.bsky.social"),
    }
    assert spans["@carol.bsky.social"]["did"] == bluesky.did_for("carol.bsky.social")
    assert spans["https://status.acme.example/i/42"] == {
        "$type": "app.bsky.richtext.facet#link",
        "uri": "https://status.acme.example/i/42",
    }
    # character offsets would be wrong here: the emoji before the mention take 4-11 bytes each
    assert record["facets"][0]["index"]["byteStart"] != text.index("@alice")


def test_bluesky_counts_graphemes_not_code_points(engine, bluesky):
    bluesky.add_mention("hello")
    config = make_config(bluesky)
    [mid] = ingest(engine, config, "bluesky")
    accented = "e\u0301" * 300  # 600 code points, 300 graphemes
    assert workflow.request_reply(engine, config, mid, text=accented, actor="bob").status == "pending"
    flags = "🇫🇷" * 301
    with pytest.raises(workflow.WorkflowError, match=r"301 graphemes.*1 over the limit of 300"):
        workflow.request_reply(engine, config, mid, text=flags, actor="carol")


def test_incident_status_reply_resolves_members_but_big_accounts_stay_open(engine, mastodon):
    t0 = datetime.now(UTC) - timedelta(minutes=20)
    mastodon.add_mention("is the site down?", author="u1", followers=10, created_at=t0)
    mastodon.add_mention("site down for me", author="u2", followers=20, created_at=t0 + timedelta(minutes=1))
    mastodon.add_mention("down again!!", author="big", followers=80_000, created_at=t0 + timedelta(minutes=2))
    config = make_config(
        mastodon,
        responder={
            "templates": {"incident": "We know {product} is down and are fixing it; updates follow."},
            "incidents": {"personal_min_followers": 10_000},
        },
    )
    ids = ingest(engine, config, "mastodon")
    with engine.begin() as conn:
        incident_id = conn.execute(
            m.Incident.__table__.insert()
            .values(platform="mastodon", opened_at=t0, last_seen_at=t0, count=3, routes=[])
            .returning(m.Incident.__table__.c.id)
        ).scalar_one()
        conn.execute(
            update(m.Mention.__table__)
            .where(m.Mention.__table__.c.id.in_(ids))
            .values(incident_id=incident_id)
        )
    req = workflow.request_incident_reply(engine, config, incident_id, template="incident", actor="ops")
    assert req.mention_id == ids[0]
    send_all(engine, config)
    assert len(mastodon.replies) == 1
    statuses = {mention_row(engine, i).author_handle: mention_row(engine, i).status for i in ids}
    assert statuses["big"] in ("new", "acknowledged")  # left open for a personal reply
    assert statuses["u1"] == statuses["u2"] == "resolved"


def test_follow_up_from_the_same_author_reopens_the_conversation(engine, mastodon):
    status = mastodon.add_mention("wifi keeps dropping", author="hana")
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    workflow.request_reply(engine, config, mid, text="Did a restart help?", actor="bob")
    send_all(engine, config)
    assert mention_row(engine, mid).status == "replied"
    ours = mastodon.replies[0]
    follow = mastodon.add_status(
        "@acme no, still dropping", author="hana", mentions=["acme"], in_reply_to=ours
    )
    mastodon.add_notification("mention", status=follow, account=follow["account"])
    ids = ingest(engine, config, "mastodon")
    new_id = max(ids)
    assert mention_row(engine, new_id).conversation_id == status["id"]
    assert mention_row(engine, mid).status == "acknowledged"  # re-opened for the agent
