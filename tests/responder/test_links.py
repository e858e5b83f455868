"""Alerts carry a signed Claim link next to Acknowledge; a claim shows in the alert."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from monitor import workflow
from monitor.alerts import compose
from monitor.alerts.ack import TokenError, verify
from monitor.alerts.message import render
from monitor.alerts.notifier import Notifier
from monitor.config import parse_config
from tests.alerts.conftest import Receiver
from tests.responder.conftest import config_data, ingest


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def test_alert_has_claim_and_ack_links_with_separate_purposes(engine, mastodon, receiver):
    mastodon.add_mention("I was charged twice", author="kim")
    data = config_data(mastodon)
    data["alerts"] = {
        "routes": [{"name": "support", "match": {"labels": ["complaint"]}, "notify": [receiver.hook()]}]
    }
    data["dashboard"] = {"public_url": "https://monitor.example", "secret_key": "k" * 32}
    config = parse_config(data)
    [mid] = ingest(engine, config, "mastodon")
    notifier = Notifier(engine, config)
    notifier.deliver_due()
    notifier.close()
    [post] = receiver.posts()
    claim = re.search(r"https://monitor\.example/claim/(\S+)", post["message"])
    ack = re.search(r"https://monitor\.example/ack/(\S+)", post["message"])
    assert claim and ack
    now = datetime.now(UTC)
    assert verify(claim.group(1), "k" * 32, now, purpose="claim") == mid
    with pytest.raises(TokenError):
        verify(claim.group(1), "k" * 32, now)  # a claim link cannot acknowledge
    with pytest.raises(TokenError):
        verify(ack.group(1), "k" * 32, now, purpose="claim")  # nor an acknowledge link claim

    workflow.claim(engine, [mid], actor="alice")
    message = compose.mention_message(
        mention_row_model(engine, mid),
        now=now,
        sla=config.alerts.sla,
        claim_link="https://monitor.example/claim/x",
    )
    _, body = render(message, "text")
    assert "Claimed by alice" in body and "/claim/" not in body  # already claimed: no Claim link


def mention_row_model(engine, mid):
    from sqlmodel import Session

    from monitor.store import models as m

    with Session(engine, expire_on_commit=False) as s:
        return s.get(m.Mention, mid)
