"""Refusals before queueing and platform errors while sending: clear errors, nothing lost or posted twice."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from monitor import workflow
from monitor.config import ConfigError
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.responder.sender import Sender
from tests.alerts.conftest import ScriptedTriager
from tests.fakes.server import Response
from tests.responder.conftest import ingest, make_config, mention_row, reply_rows


def sender_for(engine, config) -> Sender:
    return Sender(engine, config, jobs=False)


def posts(fake, path: str) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.startswith(path))


def test_429_waits_for_the_reset_then_posts_once(engine, mastodon):
    mastodon.add_mention("where is my refund")
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    workflow.request_reply(engine, config, mid, text="Checking now.", actor="bob")
    reset = datetime.now(UTC) + timedelta(seconds=1.5)
    mastodon.fail(
        Response(
            429,
            {"error": "Too many requests"},
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
        ),
        path="/api/v1/statuses",
    )
    sender = sender_for(engine, config)
    assert sender.send_one()
    [row] = reply_rows(engine, mid)
    assert row.status == "pending" and row.attempts == 0  # a 429 does not use up an attempt
    assert abs((row.next_attempt_at - reset).total_seconds()) < 1
    assert sender.send_due() == 0  # not due before the reset
    assert mastodon.replies == []
    deadline = time.monotonic() + 10
    while not mastodon.replies and time.monotonic() < deadline:
        sender.send_due()
        time.sleep(0.05)
    sent_at = datetime.now(UTC)
    sender.close()
    assert len(mastodon.replies) == 1 and sent_at >= reset
    assert posts(mastodon, "/api/v1/statuses") == 2
    assert reply_rows(engine, mid)[0].status == "sent"


def test_double_submit_and_two_senders_post_once(engine, reddit):
    reddit.add_post("Acme billing is broken", author="dave")
    config = make_config(reddit)
    [mid] = ingest(engine, config, "reddit")
    first = workflow.request_reply(engine, config, mid, text="Hi Dave, looking into it.", actor="bob")
    again = workflow.request_reply(engine, config, mid, text="Hi Dave, looking into it.", actor="bob")
    assert again.reply_id == first.reply_id and again.duplicate and not first.duplicate
    senders = [sender_for(engine, config) for _ in range(2)]
    threads = [threading.Thread(target=s.send_due) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in senders:
        s.close()
    assert len(reddit.replies) == 1
    assert [r.status for r in reply_rows(engine, mid)] == ["sent"]


def test_too_long_text_is_refused_before_queueing_saying_by_how_much(engine, xfake):
    alice = xfake.add_user("alice")
    xfake.post(alice, "@acme broken again")
    config = make_config(xfake)
    [mid] = ingest(engine, config, "x")
    with pytest.raises(workflow.WorkflowError, match=r"281 characters.*1 over the limit of 280"):
        workflow.request_reply(engine, config, mid, text="a" * 281, actor="bob")
    # links count 23, whatever their length
    long_link = " https://example.com/" + "x" * 80
    with pytest.raises(workflow.WorkflowError, match=r"281 characters as X counts them.*1 over"):
        workflow.request_reply(engine, config, mid, text="b" * 257 + long_link, actor="bob")
    # emoji weigh 2
    with pytest.raises(workflow.WorkflowError, match="282 characters as X counts them"):
        workflow.request_reply(engine, config, mid, text="c" * 278 + "\N{PILE OF POO}" * 2, actor="bob")
    assert reply_rows(engine) == []


def test_whitespace_only_and_unknown_template_are_clear_errors(engine, mastodon):
    mastodon.add_mention("hello?")
    config = make_config(mastodon, responder={"templates": {"ack": "Hi {author}, see {ticket_link}"}})
    [mid] = ingest(engine, config, "mastodon")
    with pytest.raises(workflow.WorkflowError, match="empty or only whitespace"):
        workflow.request_reply(engine, config, mid, text=" \n\t ", actor="bob")
    with pytest.raises(workflow.WorkflowError, match=r"no reply template named 'nope'; known: ack"):
        workflow.request_reply(engine, config, mid, template="nope", actor="bob")
    with pytest.raises(workflow.WorkflowError, match=r"no value for \{ticket_link\}.*responder.ticket_link"):
        workflow.request_reply(engine, config, mid, template="ack", actor="bob")
    assert reply_rows(engine) == []
    with pytest.raises(ConfigError, match=r"responder.templates.*greet: unknown variable\(s\) \{nmae\}"):
        make_config(mastodon, responder={"templates": {"greet": "Hi {nmae}!"}})


def test_hacker_news_is_read_only(engine):
    config = make_config()
    now = datetime.now(UTC)
    item = Mention(
        platform="hackernews",
        external_id="4242",
        text="Acme is down again",
        created_at=now,
        author_handle="pg",
        url="https://news.ycombinator.com/item?id=4242",
    )
    Pipeline(engine, config, triager=ScriptedTriager()).ingest([item], source="hn")
    mid = mention_row_id(engine)
    with pytest.raises(workflow.WorkflowError, match="Hacker News is read-only"):
        workflow.request_reply(engine, config, mid, text="Sorry!", actor="bob")
    assert reply_rows(engine) == []


def mention_row_id(engine) -> int:
    from sqlalchemy import select

    from monitor.store import models as m

    with engine.connect() as conn:
        return conn.execute(select(m.Mention.__table__.c.id)).scalar_one()


def test_deleted_post_fails_once_with_the_reason_on_the_mention(engine, mastodon):
    status = mastodon.add_mention("refund please")
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    workflow.request_reply(engine, config, mid, text="On it.", actor="bob")
    del mastodon.statuses[status["id"]]  # the author deleted it meanwhile
    sender = sender_for(engine, config)
    sender.send_due()
    sender.send_due()
    sender.close()
    assert posts(mastodon, "/api/v1/statuses") == 1 and mastodon.replies == []
    [row] = reply_rows(engine, mid)
    assert row.status == "failed" and "deleted" in row.last_error
    mention = mention_row(engine, mid)
    assert mention.reply_status == "failed" and "deleted" in mention.reply_error
    assert mention.first_response_at is None and mention.status != "replied"


def test_suspended_account_is_a_clear_failure(engine, reddit):
    reddit.add_post("Acme app crashes", author="erin")
    config = make_config(reddit)
    [mid] = ingest(engine, config, "reddit")
    workflow.request_reply(engine, config, mid, text="Sorry Erin!", actor="bob")
    reddit.suspended = True
    sender = sender_for(engine, config)
    sender.send_due()
    sender.close()
    assert reddit.replies == []
    assert "suspended" in mention_row(engine, mid).reply_error


def test_x_self_serve_reply_restriction_is_specific_and_not_retried(engine, xfake):
    alice = xfake.add_user("alice")
    tweet = xfake.post(alice, "acme is terrible")  # does not mention @acme
    xfake.tweets[tweet["id"]]["entities"] = {}
    config = make_config(xfake, responder={})
    # The search stream finds it; the mentions timeline would not.
    config = config.model_copy(
        update={"sources": {"x": config.sources["x"].model_copy(update={"search": True, "mentions": False})}}
    )
    [mid] = ingest(engine, config, "x")
    xfake.restrict_replies = True
    workflow.request_reply(engine, config, mid, text="Sorry Alice, DM us?", actor="bob")
    sender = sender_for(engine, config)
    sender.send_due()
    sender.send_due()
    sender.close()
    assert posts(xfake, "/2/tweets") == 1 and xfake.replies == []
    error = mention_row(engine, mid).reply_error
    assert "self-serve API tiers" in error and "mention or quote" in error


def test_expired_token_mid_send_is_renewed_and_posts_once(engine, bluesky):
    bluesky.add_mention("login loop on android")
    config = make_config(bluesky)
    [mid] = ingest(engine, config, "bluesky")
    workflow.request_reply(engine, config, mid, text="Which app version?", actor="bob")
    sender = sender_for(engine, config)
    bluesky.expire_access_tokens()
    sender.send_due()
    sender.close()
    assert len(bluesky.replies) == 1
    assert reply_rows(engine, mid)[0].status == "sent"


def test_revoked_token_fails_then_a_new_request_after_the_fix_sends_once(engine, mastodon):
    mastodon.add_mention("still waiting")
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    workflow.request_reply(engine, config, mid, text="Sorry for the wait.", actor="bob")
    real = mastodon.token
    mastodon.token = "rotated"
    sender = sender_for(engine, config)
    sender.send_due()
    sender.close()
    assert "expired or was revoked" in mention_row(engine, mid).reply_error
    mastodon.token = real  # the operator fixed the token
    again = workflow.request_reply(engine, config, mid, text="Sorry for the wait.", actor="bob")
    assert again.status == "pending" and not again.duplicate
    sender = sender_for(engine, config)
    sender.send_due()
    sender.close()
    assert len(mastodon.replies) == 1 and [r.status for r in reply_rows(engine, mid)] == ["sent"]


def test_one_operator_alert_per_failing_platform(engine, mastodon):
    from sqlalchemy import select

    from monitor.alerts import operators
    from monitor.alerts.outbox import route_destinations
    from monitor.store import models as m

    for who in ("ann", "ben"):
        mastodon.add_mention("refund?", author=who)
    config = make_config(mastodon)
    ids = ingest(engine, config, "mastodon")
    for i in ids:
        workflow.request_reply(engine, config, i, text="Looking into it.", actor="bob")
    mastodon.suspended = True
    sender = sender_for(engine, config)
    sender.send_due()
    sender.close()
    assert [r.status for r in reply_rows(engine)] == ["failed", "failed"]
    by_route = route_destinations(config.alerts)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        operators.run(conn, config.alerts, by_route, now)
        operators.run(conn, config.alerts, by_route, now + timedelta(minutes=1))
    t = m.AlertOutbox.__table__
    with engine.connect() as conn:
        keys = list(conn.execute(select(t.c.key, t.c.title).where(t.c.key.like("operator:replies:%"))))
    assert len(keys) == 1 and keys[0].key.startswith("operator:replies:mastodon:")
    assert "2 failed" in keys[0].title


def test_mastodon_timeout_after_accepting_is_looked_up_once_the_key_expired(engine, mastodon):
    mastodon.add_mention("lost my data", author="ivy")
    config = make_config(mastodon, responder={"send_timeout": 1})
    [mid] = ingest(engine, config, "mastodon")
    workflow.request_reply(engine, config, mid, text="Sorry Ivy, restoring it now.", actor="bob")
    # Two hours later (past the server's one-hour memory of the key): the post is made, the answer lost.
    at = [datetime.now(UTC) + timedelta(hours=2)]
    sender = Sender(engine, config, jobs=False, clock=lambda: at[0])
    mastodon.hold_posts()
    try:
        sender.send_one()
    finally:
        mastodon.release_posts()
    [row] = reply_rows(engine, mid)
    assert row.status == "pending" and row.log[-1]["outcome"] == "ambiguous"
    at[0] += timedelta(minutes=5)
    sender.send_due()
    sender.close()
    assert len(mastodon.replies) == 1
    assert posts(mastodon, "/api/v1/statuses") == 1  # looked up in the thread, not sent again
    [row] = reply_rows(engine, mid)
    assert row.status == "sent" and row.platform_reply_id == mastodon.replies[0]["id"]
    assert row.log[-1]["outcome"] == "found"


def test_reddit_rate_limit_headers_hold_the_next_reply_until_reset(engine, reddit):
    reddit.add_post("Acme lost my order", author="jo")
    reddit.add_post("Acme charged me twice", author="kai")
    config = make_config(reddit)
    ids = ingest(engine, config, "reddit")
    for i in ids:
        workflow.request_reply(engine, config, i, text="Sorry! DM us your order number.", actor="bob")
    reddit.set_remaining(1, reset_in=120)  # the first comment uses the window's last request
    sender = sender_for(engine, config)
    sender.send_due()
    sender.close()
    assert len(reddit.replies) == 1 and posts(reddit, "/api/comment") == 1  # the second was never sent
    waiting = [r for r in reply_rows(engine) if r.status == "pending"]
    assert len(waiting) == 1 and waiting[0].attempts == 0
    wait = (waiting[0].next_attempt_at - datetime.now(UTC)).total_seconds()
    assert 60 < wait <= 125
    assert "rate-limit window" in waiting[0].last_error


def test_server_errors_are_retried_with_backoff_then_fail_visibly(engine, mastodon):
    mastodon.add_mention("broken", author="lee")
    config = make_config(mastodon, responder={"max_attempts": 3, "base_delay": 10, "max_delay": 60})
    [mid] = ingest(engine, config, "mastodon")
    workflow.request_reply(engine, config, mid, text="Looking.", actor="bob")
    mastodon.fail(Response(503, {"error": "Service Unavailable"}), path="/api/v1/statuses", times=3)
    at = [datetime.now(UTC)]
    sender = Sender(engine, config, jobs=False, clock=lambda: at[0], rand=lambda: 0.5)
    waits = []
    for _ in range(3):
        assert sender.send_one()
        row = reply_rows(engine, mid)[0]
        if row.status != "pending":
            break
        waits.append(round((row.next_attempt_at - at[0]).total_seconds()))
        assert not sender.send_one()  # not before its time
        at[0] = row.next_attempt_at
    sender.close()
    assert waits == [10, 20]  # doubling from base_delay
    row = reply_rows(engine, mid)[0]
    assert row.status == "failed" and row.attempts == 3
    assert "gave up after 3 attempt(s)" in mention_row(engine, mid).reply_error
    assert mastodon.replies == []


@pytest.mark.parametrize("case", ["threadgate", "blocked"])
def test_bluesky_post_we_may_not_reply_to_fails_without_posting(engine, bluesky, case):
    post = bluesky.add_mention("never again", author="max.bsky.social")
    config = make_config(bluesky)
    [mid] = ingest(engine, config, "bluesky")
    workflow.request_reply(engine, config, mid, text="Sorry Max.", actor="bob")
    if case == "threadgate":
        bluesky.replies_disabled.add(post["uri"])
    else:
        bluesky.blocked_by.add("max.bsky.social")
    sender = sender_for(engine, config)
    sender.send_due()
    sender.close()
    assert bluesky.replies == [] and bluesky.calls("com.atproto.repo.createRecord") == 0
    error = mention_row(engine, mid).reply_error
    assert ("limited who can reply" if case == "threadgate" else "blocks") in error
    assert reply_rows(engine, mid)[0].status == "failed"


def test_reddit_locked_thread_and_deleted_comment(engine, reddit):
    locked = reddit.add_post("Acme support is a joke", author="nat")
    config = make_config(reddit)
    [mid] = ingest(engine, config, "reddit")
    reddit.locked.add(locked["name"])
    workflow.request_reply(engine, config, mid, text="Hi Nat, sorry.", actor="bob")
    sender = sender_for(engine, config)
    sender.send_due()
    sender.close()
    assert reddit.replies == []
    assert "replies are not allowed there (THREAD_LOCKED" in mention_row(engine, mid).reply_error


def test_retry_after_fixing_the_cause_sends_the_failed_reply_once(engine, mastodon):
    mastodon.add_mention("where is my parcel", author="oli")
    config = make_config(mastodon)
    [mid] = ingest(engine, config, "mastodon")
    req = workflow.request_reply(engine, config, mid, text="Tracking it now.", actor="bob")
    mastodon.suspended = True
    sender = sender_for(engine, config)
    sender.send_due()
    assert reply_rows(engine, mid)[0].status == "failed"
    pending = _pending_reply(engine, config, mastodon)
    with pytest.raises(workflow.WorkflowError, match="only failed or unknown"):
        workflow.retry_reply(engine, pending, actor="ops")
    mastodon.suspended = False  # the account was reinstated
    again = workflow.retry_reply(engine, req.reply_id, actor="ops")
    assert again.status == "pending" and mention_row(engine, mid).reply_status == "pending"
    sender.send_due()
    sender.close()
    assert len(mastodon.replies) == 2  # the retried one and the other, each once
    assert reply_rows(engine, mid)[0].status == "sent"


def _pending_reply(engine, config, mastodon) -> int:
    """A reply that has not failed, to show that retry refuses it."""
    mastodon.add_mention("another one", author="pia")
    ids = ingest(engine, config, "mastodon")
    return workflow.request_reply(engine, config, max(ids), text="On it.", actor="bob").reply_id
