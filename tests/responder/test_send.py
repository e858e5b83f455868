"""A reply per platform goes out once through the fake platform, with its id and URL stored."""

from __future__ import annotations

from sqlalchemy import select

from monitor import workflow
from monitor.responder.sender import Sender
from monitor.store import models as m
from tests.responder.conftest import ingest, make_config, mention_row, reply_rows


def _send(engine, config) -> int:
    sender = Sender(engine, config, jobs=False)
    try:
        return sender.send_due()
    finally:
        sender.close()


def test_mastodon_reply_keeps_visibility_prefixes_handle_and_sends_idempotency_key(engine, mastodon):
    status = mastodon.add_mention("my order never arrived", author="alice@remote.example")
    status["visibility"] = "private"  # followers-only: the reply must not be public
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")

    req = workflow.request_reply(engine, config, mid, text="Sorry Alice, we're on it.", actor="bob")
    assert req.status == "pending" and req.text.startswith("@alice@remote.example ")
    assert _send(engine, config) == 1

    [posted] = mastodon.replies
    assert posted["in_reply_to_id"] == status["id"]
    assert posted["visibility"] == "private"
    post_req = next(r for r in mastodon.requests if r.method == "POST")
    assert post_req.headers["idempotency-key"] == reply_rows(engine, mid)[0].key
    [row] = reply_rows(engine, mid)
    assert row.status == "sent" and row.platform_reply_id == posted["id"]
    assert row.platform_reply_url == posted["url"]
    mention = mention_row(engine, mid)
    assert mention.status == "replied" and mention.first_responder == "bob"
    assert mention.first_response_at is not None and mention.reply_status == "sent"


def test_bluesky_reply_has_root_and_parent_refs(engine, bluesky):
    root = bluesky.add_mention("the app crashes on start")
    child = bluesky.add_reply("still crashing @acme.bsky.social", root, mention=["acme.bsky.social"])
    config = make_config(bluesky)
    ids = ingest(engine, config, "bluesky")
    by_uri = {mention_row(engine, i).external_id: i for i in ids}

    workflow.request_reply(engine, config, by_uri[child["uri"]], text="We're looking into it.", actor="bob")
    assert _send(engine, config) == 1

    [posted] = bluesky.replies
    reply = posted["record"]["reply"]
    assert reply["parent"] == {"uri": child["uri"], "cid": child["cid"]}
    assert reply["root"] == {"uri": root["uri"], "cid": root["cid"]}
    [row] = reply_rows(engine, by_uri[child["uri"]])
    assert row.status == "sent" and row.platform_reply_id == posted["uri"]
    rkey = posted["uri"].rsplit("/", 1)[-1]
    assert row.platform_reply_url == f"https://bsky.app/profile/{bluesky.did}/post/{rkey}"


def test_reddit_reply_posts_a_comment_under_the_thing(engine, reddit):
    post = reddit.add_post("Acme support never answers", author="carol")
    config = make_config(reddit)
    [mid] = ingest(engine, config, "reddit")

    workflow.request_reply(engine, config, mid, text="Hi Carol, please DM us your order number.", actor="bob")
    assert _send(engine, config) == 1

    [comment] = reddit.replies
    assert comment["parent_id"] == post["name"] and comment["author"] == "acme_support"
    form = next(r for r in reddit.requests if r.path.startswith("/api/comment")).form()
    assert form["thing_id"] == [post["name"]] and form["api_type"] == ["json"]
    [row] = reply_rows(engine, mid)
    assert row.platform_reply_id == comment["name"]
    assert row.platform_reply_url == "https://www.reddit.com" + comment["permalink"]


def test_x_reply_goes_through_tweepy_to_the_api_base(engine, xfake):
    alice = xfake.add_user("alice", followers=10)
    tweet = xfake.post(alice, "@acme my card was charged twice")
    config = make_config(xfake)
    [mid] = ingest(engine, config, "x")

    workflow.request_reply(engine, config, mid, text="@alice sorry! DM us please.", actor="bob")
    assert _send(engine, config) == 1

    [posted] = xfake.replies
    assert posted["referenced_tweets"] == [{"type": "replied_to", "id": tweet["id"]}]
    [row] = reply_rows(engine, mid)
    assert row.platform_reply_id == posted["id"]
    assert row.platform_reply_url == f"https://x.com/i/web/status/{posted['id']}"
    # the event log records who replied and the platform id
    t = m.Event.__table__
    with engine.connect() as conn:
        ev = conn.execute(select(t).where(t.c.mention_id == mid, t.c.action == "replied")).one()
    assert ev.actor == "bob" and ev.detail["platform_id"] == posted["id"]
