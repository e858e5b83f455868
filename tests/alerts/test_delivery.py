"""Real Apprise delivering to servers on 127.0.0.1: the ledger, retries, ambiguity, isolation, e-mail."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from monitor.alerts.notifier import Notifier
from monitor.pipeline import Pipeline
from monitor.store import models as m
from tests.alerts.conftest import ScriptedTriager, free_port, make_config, mention, pipeline
from tests.fakes.server import Response


def _deliveries(engine) -> list[m.AlertDelivery]:
    with Session(engine) as s:
        return list(s.exec(select(m.AlertDelivery).order_by(m.AlertDelivery.id)).all())


def _route(*urls: str, **alerts):
    return make_config(
        {"routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": list(urls)}], **alerts}
    )


def test_alert_arrives_once_and_the_ledger_says_when(engine, receiver, clock):
    config = _route(receiver.hook())
    result = pipeline(engine, config, clock).ingest(
        [mention(clock.now, priority="P1", followers=48_200, text="@Acme charged me twice")], source="x"
    )
    assert result.alerts == 1
    notifier = Notifier(engine, config, clock=clock)
    assert notifier.deliver_due() == 1
    posts = receiver.posts("/hook")
    assert len(posts) == 1
    assert posts[0]["title"].startswith("P1 complaint on x")
    assert "48k followers" in posts[0]["message"]
    assert "charged me twice" in posts[0]["message"]
    [row] = _deliveries(engine)
    assert (row.status, row.attempts, row.delivered_at) == ("delivered", 1, clock.now)
    assert row.log[0]["outcome"] == "delivered" and row.log[0]["apprise"] == "SUCCESS"
    assert "127.0.0.1" in row.destination_label
    # Nothing is due any more, and a restarted notifier does not send it again.
    assert notifier.deliver_due() == 0
    assert Notifier(engine, config, clock=clock).deliver_due() == 0
    assert len(receiver.posts()) == 1


def test_500_then_200_is_retried_with_backoff(engine, receiver, clock):
    config = _route(receiver.hook(), retry={"base_delay": 10, "max_delay": 60, "max_attempts": 5})
    receiver.fail(Response(500, {"error": "boom"}), times=2)
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    notifier = Notifier(engine, config, clock=clock, rand=lambda: 0.5)

    assert notifier.deliver_due() == 1
    [row] = _deliveries(engine)
    assert row.status == "failed" and row.attempts == 1
    assert row.next_attempt_at == clock.now + timedelta(seconds=10)  # base delay, jitter at its midpoint
    assert "500" in row.last_error

    assert notifier.deliver_due() == 0  # not due yet
    clock.advance(seconds=10)
    assert notifier.deliver_due() == 1
    [row] = _deliveries(engine)
    assert row.status == "failed" and row.attempts == 2
    assert row.next_attempt_at == clock.now + timedelta(seconds=20)  # doubled

    clock.advance(seconds=20)
    assert notifier.deliver_due() == 1
    [row] = _deliveries(engine)
    assert (row.status, row.attempts) == ("delivered", 3)
    assert [e["outcome"] for e in row.log] == ["failed", "failed", "delivered"]
    assert len(receiver.received("/hook")) == 3
    assert len([r for r in receiver.requests if r.path == "/hook"]) == 3


def test_gives_up_after_max_attempts(engine, receiver, clock):
    config = _route(receiver.hook(), retry={"base_delay": 1, "max_delay": 2, "max_attempts": 2})
    receiver.fail(Response(503), times=5)
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    notifier = Notifier(engine, config, clock=clock)
    notifier.deliver_due()
    clock.advance(seconds=5)
    notifier.deliver_due()
    [row] = _deliveries(engine)
    assert (row.status, row.attempts, row.next_attempt_at) == ("gave_up", 2, None)
    clock.advance(hours=1)
    assert notifier.deliver_due() == 0


def test_one_broken_target_does_not_block_the_others(engine, receiver, clock):
    dead = f"json://127.0.0.1:{free_port()}/nobody"  # nothing listens: connection refused
    config = _route(dead, receiver.hook("/a"), receiver.hook("/b"))
    pipeline(engine, config, clock).ingest(
        [mention(clock.now, priority="P1"), mention(clock.now, priority="P1")], source="x"
    )
    assert Notifier(engine, config, clock=clock).deliver_due() == 6
    by_status = {}
    for row in _deliveries(engine):
        by_status.setdefault(row.destination_label.split("/")[-1].split("?")[0], set()).add(row.status)
    assert by_status == {"nobody": {"failed"}, "a": {"delivered"}, "b": {"delivered"}}
    assert len(receiver.posts("/a")) == 2 and len(receiver.posts("/b")) == 2


def test_a_timeout_is_unknown_and_resent_only_once_marked(engine, receiver, clock):
    # The receiver takes the post but answers only after Apprise's deadline.
    config = _route(receiver.hook(), send_timeout=0.5)
    receiver.fail(Response(200, delay=2.0))
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    notifier = Notifier(engine, config, clock=clock)
    assert notifier.deliver_due() == 1
    [row] = _deliveries(engine)
    assert row.status == "unknown"
    assert row.log[-1]["apprise"] == "TIMEOUT"
    # A P1: after the grace period it goes out once more, marked as a possible repeat (test_ambiguous.py).
    clock.advance(hours=1)
    assert notifier.deliver_due() == 1
    assert notifier.deliver_due() == 0
    posts = receiver.posts("/hook")
    assert len(posts) == 2 and "re-sent: an earlier delivery may not have arrived" in posts[1]["message"]


def test_a_read_timeout_after_sending_is_unknown(engine, receiver, clock):
    # Apprise reports FAILURE here (its HTTP read timed out), but the request was sent: ambiguous.
    config = _route(receiver.hook(rto="0.5"))
    receiver.fail(Response(200, delay=2.0))
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    Notifier(engine, config, clock=clock).deliver_due()
    [row] = _deliveries(engine)
    assert row.status == "unknown", row.log
    assert row.log[-1]["apprise"] == "FAILURE"


def test_email_through_smtp_is_html_and_inert(engine, smtp, clock):
    config = _route(smtp.url())
    text = "<script>alert(1)</script> @everyone [Ack](https://evil.example/ack) you charged me twice"
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1", text=text)], source="x")
    assert Notifier(engine, config, clock=clock).deliver_due() == 1
    [row] = _deliveries(engine)
    assert row.status == "delivered", row.last_error
    [envelope] = smtp.messages
    assert envelope.rcpt_tos == ["agent@example.com"]
    msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert msg["Subject"].startswith("P1 complaint on x")
    html_part = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    html = html_part.get_payload(decode=True).decode()
    assert "<blockquote>" in html and "charged me twice" in html
    assert "<script" not in html and "https://evil" not in html and "@everyone" not in html


def test_hostile_text_reaches_the_webhook_inert(engine, receiver, clock):
    config = _route(receiver.hook(format="markdown"))
    text = "<!channel> @here <@&1234> **urgent** [Acknowledge](https://evil.example/x) <b>hi</b>"
    pipeline(engine, config, clock).ingest(
        [mention(clock.now, priority="P1", text=text, handle="<!everyone>")], source="x"
    )
    Notifier(engine, config, clock=clock).deliver_due()
    [post] = receiver.posts()
    out = post["title"] + post["message"]
    for bad in ("<!channel>", "@here", "<@&", "<!everyone>", "](https://evil", "<b>"):
        assert bad not in out
    assert "\\*\\*urgent\\*\\*" in post["message"]


def test_severity_routes_page_for_severe_and_tell_the_team_about_moderate(engine, receiver, clock):
    config = make_config(
        {
            "routing": "first",
            "routes": [
                {"name": "pager", "match": {"severity": ["severe"]}, "notify": [receiver.hook("/pager")]},
                {"name": "team", "match": {"severity": ["moderate"]}, "notify": [receiver.hook("/team")]},
            ],
        }
    )
    fraud = (
        "service failure: “charged me twice”",
        "accuses the brand of fraud (“fraud”)",
        "2nd complaint in 24 h",
    )
    money = ("money at stake: “$40”",)
    result = pipeline(engine, config, clock).ingest(
        [
            mention(clock.now, priority="P1", severity="severe", reasons=fraud, text="@Acme this is fraud"),
            mention(clock.now, severity="moderate", reasons=money, text="@Acme $40 gone"),
            mention(clock.now, severity="mild", reasons=("negative -0.40",), text="@Acme a bit slow"),
            mention(clock.now, label="praise", priority="P3", reasons=("positive",), text="@Acme love it"),
        ],
        source="x",
    )
    assert result.alerts == 2  # the mild complaint and the praise match no route
    Notifier(engine, config, clock=clock).deliver_due()
    [page] = receiver.posts("/pager")
    assert page["title"].startswith("P1 severe complaint on x")
    assert "Severity: severe · accuses the brand of fraud (“fraud”)" in page["message"]
    [team] = receiver.posts("/team")
    assert team["title"].startswith("P2 moderate complaint on x")
    assert "Severity: moderate · money at stake: “$40”" in team["message"]
    assert len(receiver.posts()) == 2


def test_invalid_url_gives_up_at_once_with_a_useful_error(engine, clock):
    config = _route("json://127.0.0.1:9/ok")
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    # The config changed since the alert was queued: its destination is gone.
    other = _route("json://127.0.0.1:9/other")
    Notifier(engine, other, clock=clock).deliver_due()
    [row] = _deliveries(engine)
    assert row.status == "gave_up"
    assert "no longer in the config" in row.last_error


def test_apprise_config_file_with_tags(engine, receiver, clock, tmp_path):
    apprise_file = tmp_path / "apprise.txt"
    apprise_file.write_text(
        f"agents={receiver.hook('/agents')}\nmanagers={receiver.hook('/managers')}\n", encoding="utf-8"
    )
    config = make_config(
        {
            "routing": "all",
            "routes": [
                {
                    "name": "agents",
                    "match": {"priority": "P1"},
                    "apprise_config": str(apprise_file),
                    "tags": ["agents"],
                },
                {
                    "name": "typo",
                    "match": {"priority": "P1"},
                    "apprise_config": str(apprise_file),
                    "tags": ["agnets"],
                },
            ],
        }
    )
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    Notifier(engine, config, clock=clock).deliver_due()
    assert len(receiver.posts("/agents")) == 1 and receiver.posts("/managers") == []
    # Config groups get markdown, which Apprise converts for each service.
    assert "**@\u200b" in receiver.posts("/agents")[0]["message"]
    rows = {r.destination.split("/")[0]: r for r in _deliveries(engine)}
    assert rows["agents"].status == "delivered"
    assert rows["typo"].status == "failed"
    assert rows["typo"].log[-1]["apprise"] == "NOMATCH"
    assert "no Apprise service matched" in rows["typo"].last_error


def test_run_loop_delivers_when_woken_and_stops(engine, receiver):
    # The daemon's arrangement: the pipeline wakes the notifier thread after its commit.
    config = _route(receiver.hook())
    notifier = Notifier(engine, config)
    pipe = Pipeline(engine, config, triager=ScriptedTriager(), on_alerts=notifier.wake)  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=notifier.run, args=(stop,), daemon=True)
    thread.start()
    try:
        pipe.ingest([mention(datetime.now(UTC), priority="P1")], source="x")
        deadline = time.monotonic() + 10
        while not receiver.posts() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.posts()) == 1
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    [row] = _deliveries(engine)
    assert row.status == "delivered"


def test_partial_delivery_to_a_config_group_is_unknown_then_resent_once_marked(
    engine, receiver, clock, tmp_path
):
    apprise_file = tmp_path / "apprise.txt"
    dead = f"json://127.0.0.1:{free_port()}/dead"
    apprise_file.write_text(f"oncall={receiver.hook('/pager')}\noncall={dead}\n", encoding="utf-8")
    config = make_config(
        {"routes": [{"name": "oncall", "apprise_config": str(apprise_file), "tags": ["oncall"]}]}
    )
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    notifier = Notifier(engine, config, clock=clock)
    notifier.deliver_due()
    [row] = _deliveries(engine)
    assert row.status == "unknown" and row.log[-1]["apprise"] == "PARTIAL"
    assert "partly delivered" in row.last_error and "/dead" in row.last_error
    clock.advance(hours=1)
    # A P1 that may not have reached part of the group: sent to the group once more, marked as a
    # possible repeat (the service that got it sees the mark), then never again.
    assert notifier.deliver_due() == 1
    clock.advance(hours=1)
    assert notifier.deliver_due() == 0
    pager = receiver.posts("/pager")
    assert len(pager) == 2 and "earlier delivery may not have arrived" not in pager[0]["message"]
    # Markdown for a config group: "RE\\-SENT", "re\\-sent: …".
    assert pager[1]["title"].startswith("RE\\-SENT · P1")
    assert "an earlier delivery may not have arrived" in pager[1]["message"]
