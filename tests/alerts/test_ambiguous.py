"""Ambiguous sends (``unknown``): P1/P2 re-sent once after a grace period, marked; P3 into the next digest.

Real Apprise to a receiver on 127.0.0.1 that takes the request and answers after the
send deadline (the ambiguous case), and a real notifier subprocess killed with SIGKILL
while the receiver holds its request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

from sqlmodel import Session, select

from monitor.alerts import followup
from monitor.alerts.commands import STATUSES
from monitor.alerts.notifier import Notifier
from monitor.alerts.operators import find_problems
from monitor.cli import main
from monitor.pipeline import Pipeline
from monitor.store import models as m
from tests.alerts.conftest import ScriptedTriager, make_config, mention, pipeline
from tests.fakes.server import Response

MARK = followup.RESEND_NOTE


def _deliveries(engine) -> list[m.AlertDelivery]:
    with Session(engine) as s:
        return list(s.exec(select(m.AlertDelivery).order_by(m.AlertDelivery.id)).all())


def _config(*urls: str, priority: str = "P3", **alerts):
    return make_config(
        {
            "routes": [{"name": "team", "match": {"priority": priority}, "notify": list(urls)}],
            "send_timeout": 0.5,
            "ambiguous": {"resend_after": 120},
            "escalation": {"enabled": False},
            **alerts,
        }
    )


def test_a_hung_p1_send_is_resent_once_after_the_grace_period_marked(engine, receiver, clock):
    config = _config(receiver.hook())
    receiver.fail(Response(200, delay=2.0))  # takes the post, answers after the deadline
    pipeline(engine, config, clock).ingest(
        [mention(clock.now, priority="P1", text="@Acme site down, charged twice")], source="x"
    )
    notifier = Notifier(engine, config, clock=clock)
    assert notifier.deliver_due() == 1
    [row] = _deliveries(engine)
    assert row.status == "unknown"

    clock.advance(seconds=60)  # inside the grace period: nothing yet
    assert notifier.deliver_due() == 0
    [row] = _deliveries(engine)
    assert (row.status, row.followup) == ("unknown", "resend")
    assert "re-sending once" in row.last_error

    clock.advance(seconds=61)
    assert notifier.deliver_due() == 1
    posts = receiver.posts("/hook")
    assert len(posts) == 2
    first, second = posts
    assert MARK not in first["message"] and not first["title"].startswith("RE-SENT")
    assert MARK in second["message"] and second["title"].startswith("RE-SENT · P1 complaint")
    assert "charged twice" in second["message"]
    [row] = _deliveries(engine)
    assert (row.status, row.followup, row.attempts) == ("delivered", "resent", 2)
    assert [e["outcome"] for e in row.log] == ["unknown", "resend", "delivered"]

    # Once only: later ticks and a restarted notifier send nothing more.
    clock.advance(hours=2)
    assert notifier.deliver_due() == 0
    assert Notifier(engine, config, clock=clock).deliver_due() == 0
    assert len(receiver.posts("/hook")) == 2


def test_a_resend_that_is_ambiguous_again_is_not_sent_a_third_time(engine, receiver, clock):
    config = _config(receiver.hook(), priority="P2", ambiguous={"resend_after": 0})
    receiver.fail(Response(200, delay=2.0), times=2)
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P2")], source="x")
    notifier = Notifier(engine, config, clock=clock)
    assert notifier.deliver_due() == 1
    clock.advance(seconds=1)
    assert notifier.deliver_due() == 1
    clock.advance(hours=3)
    assert notifier.deliver_due() == 0
    [row] = _deliveries(engine)
    assert (row.status, row.followup) == ("unknown", "resent")
    posts = receiver.posts("/hook")
    assert len(posts) == 2 and MARK not in posts[0]["message"] and MARK in posts[1]["message"]
    with engine.connect() as conn:
        c = followup.counts(conn, clock.now)
    assert (c.resent, c.resent_unknown, c.unknown_now, c.resend_waiting) == (1, 1, 1, 0)


def test_a_p3_ambiguous_send_goes_into_the_next_digest_not_resent(engine, receiver, clock):
    # The P3 alert went out individually (queued before the team turned the daily digest on).
    before = _config(receiver.hook("/team"))
    receiver.fail(Response(200, delay=2.0))
    pipeline(engine, before, clock).ingest(
        [mention(clock.now, priority="P3", text="checkout is a bit slow", urgency=20)], source="x"
    )
    with_digest = _config(receiver.hook("/team"), digest={"route": "team", "every": "daily"})
    notifier = Notifier(engine, with_digest, clock=clock)
    assert notifier.deliver_due() == 1
    clock.advance(hours=1)
    assert notifier.deliver_due() == 0
    [row] = _deliveries(engine)
    assert (row.status, row.followup) == ("unknown", "digest")
    assert len(receiver.posts("/team")) == 1  # not re-sent

    clock.now = datetime(2026, 11, 19, 0, 5, tzinfo=UTC)  # the day is over: the digest goes out
    assert notifier.run_jobs(clock.now) >= 1
    notifier.deliver_due()
    digest = receiver.posts("/team")[-1]
    assert digest["title"].startswith("Mentions digest")
    with Session(engine) as s:
        p3 = s.exec(select(m.AlertOutbox).where(m.AlertOutbox.kind == "mention")).one()
    assert "may not have arrived earlier" in digest["message"]
    assert f"mention #{p3.mention_id}" in digest["message"]
    assert sum(MARK in p["message"] for p in receiver.posts("/team")) == 0
    row = next(r for r in _deliveries(engine) if r.alert_id == p3.id)
    assert (row.status, row.followup) == ("unknown", "digested")
    # The next digest does not list it again.
    clock.now = datetime(2026, 11, 20, 0, 5, tzinfo=UTC)
    pipeline(engine, with_digest, clock).ingest([mention(clock.now, priority="P3")], source="x")
    clock.now = datetime(2026, 11, 21, 0, 5, tzinfo=UTC)
    notifier.run_jobs(clock.now)
    notifier.deliver_due()
    assert "may not have arrived earlier" not in receiver.posts("/team")[-1]["message"]


def test_operators_see_the_counts_and_hear_when_they_climb(engine, receiver, clock, capsys, tmp_path):
    config = _config(
        receiver.hook(), priority="P1", ambiguous={"resend_after": 0, "operator_alert_per_hour": 2}
    )
    receiver.fail(Response(200, delay=2.0), times=3)
    pipeline(engine, config, clock).ingest(
        [mention(clock.now, priority="P1", handle=f"angry{i}") for i in range(3)], source="x"
    )
    notifier = Notifier(engine, config, clock=clock)
    assert notifier.deliver_due() == 3
    with engine.connect() as conn:
        notifier.follow_up()
        problems = find_problems(conn, config.alerts, clock.now)
    [problem] = [p for p in problems if p.key.startswith("operator:ambiguous:")]
    assert problem.title == "3 alert send(s) in the last hour may not have arrived"

    assert "unknown" in STATUSES
    cfg = tmp_path / "config.yaml"
    cfg.write_text(json.dumps({"brand": {"names": ["Acme"]}, "storage": {"url": str(engine.url)}}))
    capsys.readouterr()
    assert main(["alerts", "--status", "unknown", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "ambiguous sends (may or may not have arrived): 3 in all" in out
    assert "P1/P2 re-sent once, marked as a possible repeat: 3 (0 delivered, 0 ambiguous again)" in out


NOTIFIER_PROCESS = """
import json, sys, threading
from monitor.alerts.notifier import Notifier
from monitor.config import parse_config
from monitor.store.db import make_engine

config = parse_config(json.loads(sys.argv[1]))
Notifier(make_engine(sys.argv[2]), config).run(threading.Event())
"""


def test_sigkill_mid_send_then_restart_resends_the_urgent_alert_once_marked(engine, receiver):
    """The notifier dies while the receiver holds the request: after the restart the P1 goes out once more."""
    alerts = {
        "routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": [receiver.hook("/hold")]}],
        "ambiguous": {"resend_after": 0},
        "escalation": {"enabled": False},
    }
    config = make_config(alerts)
    proc_box: dict[str, subprocess.Popen] = {}
    held = threading.Event()

    def hold(req):
        # The request is here; the notifier dies before any answer reaches it.
        if not held.is_set():
            held.set()
            os.kill(proc_box["proc"].pid, signal.SIGKILL)
            time.sleep(0.3)
        return Response(200, {"ok": True})

    receiver.route("POST", "/hold", hold)
    now = datetime.now(UTC)
    Pipeline(engine, config, triager=ScriptedTriager()).ingest(  # type: ignore[arg-type]
        [mention(now, priority="P1", handle="vip")], source="x"
    )
    data = {"brand": {"names": ["Acme"]}, "alerts": alerts}
    proc_box["proc"] = subprocess.Popen(
        [sys.executable, "-c", NOTIFIER_PROCESS, json.dumps(data), str(engine.url)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc_box["proc"].wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc_box["proc"].poll() is None:
            proc_box["proc"].kill()
    [row] = _deliveries(engine)
    assert row.status == "sending"

    restarted = Notifier(engine, config)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _deliveries(engine)[0].status != "delivered":
        restarted.deliver_due()
        time.sleep(0.05)
    [row] = _deliveries(engine)
    assert (row.status, row.followup) == ("delivered", "resent")
    posts = receiver.posts("/hold")
    assert len(posts) == 2
    assert MARK not in posts[0]["message"] and MARK in posts[1]["message"]  # never a second unmarked copy
