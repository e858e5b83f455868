"""The acknowledge link in an alert, served by the daemon's web app: signed, expiring, works once."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from monitor.alerts.ack import TokenError, sign, verify
from monitor.alerts.notifier import Notifier
from monitor.store import models as m
from monitor.web.app import create_app
from monitor.web.server import serve, wanted
from tests.alerts.conftest import free_port, make_config, mention, pipeline


def test_tokens_are_signed_and_expire(clock):
    token = sign(42, "k1", clock.now, timedelta(hours=24))
    assert verify(token, "k1", clock.now + timedelta(hours=23)) == 42
    with pytest.raises(TokenError, match="expired"):
        verify(token, "k1", clock.now + timedelta(hours=24, seconds=1))
    with pytest.raises(TokenError, match="not valid"):
        verify(token, "other-key", clock.now)
    mention_id, expires, mac = token.split(".")
    with pytest.raises(TokenError, match="not valid"):
        verify(f"43.{expires}.{mac}", "k1", clock.now)  # someone else's mention
    with pytest.raises(TokenError, match="not valid"):
        verify(f"{mention_id}.{int(expires) + 86400}.{mac}", "k1", clock.now)  # a longer life
    with pytest.raises(TokenError, match="malformed"):
        verify("../../etc/passwd", "k1", clock.now)


KEY = "k" * 32


def _form_token(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def web(engine, receiver, clock):
    port = free_port()
    config = make_config(
        {"routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": [receiver.hook()]}]},
        dashboard={
            "listen": f"127.0.0.1:{port}",
            "public_url": f"http://127.0.0.1:{port}",
            "secret_key": "k" * 32,
        },
    )
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(engine, config, stop), kwargs={"clock": clock}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield config, base
    stop.set()
    thread.join(5)


def test_ack_link_from_the_alert_acknowledges_once(engine, receiver, clock, web):
    config, base = web
    assert wanted(config)
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    Notifier(engine, config, clock=clock).deliver_due()
    [post] = receiver.posts()
    link = re.search(r"Acknowledge: (\S+)", post["message"]).group(1)
    assert link.startswith(f"{base}/ack/")

    browser = httpx.Client()
    page = browser.get(link)  # what a chat app's link preview does: must not acknowledge
    assert page.status_code == 200 and '<form method="post">' in page.text
    with Session(engine) as s:
        assert s.exec(select(m.Mention)).one().status == "new"

    # A cross-site form post (no form cookie, no token) changes nothing.
    assert httpx.post(link, data={"by": "mallory"}).status_code == 403
    with Session(engine) as s:
        assert s.exec(select(m.Mention)).one().status == "new"

    done = browser.post(link, data={"by": "Dana <script>", "csrf": _form_token(page)})
    assert done.status_code == 200 and "acknowledged" in done.text
    assert "Dana <script>" not in done.text and "Dana &lt;script&gt;" in done.text
    with Session(engine) as s:
        mention_row = s.exec(select(m.Mention)).one()
        event = s.exec(select(m.Event)).one()
    assert mention_row.status == "acknowledged" and mention_row.acknowledged_at is not None
    assert (event.action, event.actor) == ("acknowledge", "ack-link:Dana <script>")

    again = browser.post(link, data={"csrf": _form_token(page)})
    assert again.status_code == 409 and "already acknowledged" in again.text
    assert httpx.get(link).status_code == 409

    # Acknowledged in time: no escalation.
    clock.advance(minutes=20)
    assert Notifier(engine, config, clock=clock).run_jobs(clock.now) == 0


def test_forged_or_expired_links_change_nothing(engine, clock, web):
    config, base = web
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    good = sign(1, "k" * 32, clock.now, timedelta(hours=1))
    forged = sign(1, "not-the-key", clock.now, timedelta(hours=1))
    assert httpx.post(f"{base}/ack/{forged}").status_code == 403
    expired = sign(1, "k" * 32, clock.now - timedelta(hours=2), timedelta(hours=1))
    response = httpx.post(f"{base}/ack/{expired}")
    assert response.status_code == 403 and "expired" in response.text
    assert httpx.get(f"{base}/ack/{sign(999, KEY, clock.now, timedelta(hours=1))}").status_code == 404
    with Session(engine) as s:
        assert s.exec(select(m.Mention)).one().status == "new"
    assert httpx.get(f"{base}/ack/{good}").status_code == 200


def test_without_a_secret_key_links_are_off(engine, clock):
    from fastapi.testclient import TestClient

    config = make_config()
    page = TestClient(create_app(config, engine, clock=clock)).get("/ack/1.2.3")
    assert page.status_code == 503 and "secret_key" in page.text
    assert not wanted(config)


def test_an_ack_token_is_not_a_claim_token(engine, clock, web):
    config, base = web
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    ack_token = sign(1, KEY, clock.now, timedelta(hours=1))
    assert httpx.get(f"{base}/claim/{ack_token}").status_code == 403
    assert httpx.get(f"{base}/ack/{ack_token}").status_code == 200
