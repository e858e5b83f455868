"""kill -9 of the sender after the platform accepted a reply, before our bookkeeping: never posted twice.

The fake stores the post and holds its answer; the sender process is killed
while waiting for it. The next sender finds the row ``sending`` under a dead
holder, marks it interrupted, and then: on Mastodon sends again with the same
Idempotency-Key (the server answers with the status it already made); elsewhere
looks for the reply in the thread / the account's own posts and records it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import workflow
from monitor.responder.sender import Sender
from tests.responder.conftest import config_data, ingest, make_config, mention_row, reply_rows

ROOT = Path(__file__).resolve().parents[2]

SENDER_PROCESS = """
import json, sys, threading
from monitor.config import parse_config
from monitor.responder.sender import Sender
from monitor.store.db import make_engine

config = parse_config(json.loads(sys.argv[1]))
Sender(make_engine(sys.argv[2]), config, jobs=False).run(threading.Event())
"""


def _setup(platform: str, fake) -> tuple[str, str]:
    """Post something to answer on ``fake``; returns (source name, the lookup request's path prefix)."""
    if platform == "mastodon":
        fake.add_mention("my parcel is lost")
        return "mastodon", "/api/v1/statuses/"
    if platform == "bluesky":
        fake.add_mention("my parcel is lost")
        return "bluesky", "/xrpc/app.bsky.feed.getPostThread"
    if platform == "reddit":
        fake.add_post("Acme lost my parcel", author="frank")
        return "reddit", "/user/acme_support/comments"
    alice = fake.add_user("alice")
    fake.post(alice, "@acme my parcel is lost")
    return "x", "/2/users/"


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["mastodon", "bluesky", "reddit", "x"])
def test_kill_9_after_the_platform_accepted_posts_once(platform, request, engine, db_url):
    fake = request.getfixturevalue({"x": "xfake"}.get(platform, platform))
    source, lookup = _setup(platform, fake)
    data = config_data(fake)
    config = make_config(fake)
    [mid] = ingest(engine, config, source)
    workflow.request_reply(engine, config, mid, text="So sorry, we are tracing it now.", actor="bob")
    fake.hold_posts()
    proc = subprocess.Popen(
        [sys.executable, "-c", SENDER_PROCESS, json.dumps(data), db_url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        accepted = fake.post_accepted.wait(60)
        died = proc.stderr.read1(4000) if proc.poll() is not None else b""
        assert accepted, f"the sender never posted: {died!r}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        fake.release_posts()
    assert len(fake.replies) == 1  # the platform has it...
    [row] = reply_rows(engine, mid)
    assert row.status == "sending" and row.platform_reply_id is None  # ...our books do not

    sender = Sender(engine, config, jobs=False)
    try:
        assert sender.send_due() == 1
    finally:
        sender.close()

    assert len(fake.replies) == 1, "posted twice"
    [row] = reply_rows(engine, mid)
    first = fake.replies[0]
    expected_id = {"bluesky": first.get("uri"), "reddit": first.get("name")}.get(platform, first.get("id"))
    assert row.status == "sent" and row.platform_reply_id == expected_id
    how = "sent" if platform == "mastodon" else "found"
    assert [e["outcome"] for e in row.log][-2:] == ["interrupted", how]
    assert mention_row(engine, mid).status == "replied"
    creates = [
        r
        for r in fake.requests
        if r.method == "POST"
        and r.path in ("/api/v1/statuses", "/xrpc/com.atproto.repo.createRecord", "/api/comment", "/2/tweets")
    ]
    if platform == "mastodon":
        # Sent again, with the same key: the server answered with the status it had made.
        assert len(creates) == 2
        assert {r.headers["idempotency-key"] for r in creates} == {row.key}
    else:
        assert len(creates) == 1  # looked it up instead of sending again
        assert any(r.path.startswith(lookup) for r in fake.requests)
