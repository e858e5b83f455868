"""``mention-monitor alerts`` and ``test-alert`` as functions: the ledger view and a sample send."""

from __future__ import annotations

import argparse

import pytest

from monitor.alerts.commands import (
    add_arguments,
    format_rows,
    handle_test_alert,
    list_alerts,
    send_test_alert,
)
from monitor.alerts.notifier import Notifier
from tests.alerts.conftest import free_port, make_config, mention, pipeline
from tests.fakes.server import Response


def test_ledger_shows_which_targets_got_which_alert(engine, receiver, clock):
    dead = f"json://127.0.0.1:{free_port()}/gone"
    config = make_config(
        {
            "routes": [
                {"name": "urgent", "match": {"priority": "P1"}, "notify": [receiver.hook("/chat"), dead]}
            ]
        }
    )
    pipeline(engine, config, clock).ingest([mention(clock.now, priority="P1")], source="x")
    receiver.fail(Response(500), times=1)
    Notifier(engine, config, clock=clock).deliver_due()
    clock.advance(minutes=1)
    Notifier(engine, config, clock=clock).deliver_due()

    rows = list_alerts(engine)
    assert [(r.alert_id, r.status, r.attempts) for r in rows] == [(1, "delivered", 2), (1, "failed", 2)]
    assert rows[0].delivered_at == clock.now
    assert [r.label for r in list_alerts(engine, status="failed")] == [rows[1].label]
    assert list_alerts(engine, status="unknown") == []
    lines = format_rows(rows, now=clock.now, show_log=True)
    assert lines[0].startswith("#1     mention    P1  urgent       delivered ×2 json://127.0.0.1")
    assert any("last error:" in line for line in lines)
    assert sum("attempt" in line for line in lines) == 4
    with pytest.raises(ValueError, match="unknown status"):
        list_alerts(engine, status="lost")


def test_test_alert_reports_each_target(receiver, smtp):
    config = make_config(
        {"routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": [receiver.hook(), smtp.url()]}]}
    )
    results = send_test_alert(config, "urgent")
    assert [r.outcome.status for r in results] == ["delivered", "delivered"]
    [post] = receiver.posts()
    assert post["title"].startswith("P1 complaint on test")
    assert "@everyone" not in post["message"] and "<!channel>" not in post["message"]
    assert len(smtp.messages) == 1
    with pytest.raises(ValueError, match="known routes: operators, urgent"):
        send_test_alert(config, "nope")


def test_cli_wiring_parses_and_exit_codes(receiver, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["alerts", "--status", "failed", "--limit", "5"])
    assert (args.status, args.limit) == ("failed", 5)
    config = make_config({"routes": [{"name": "r", "notify": [receiver.hook()]}]})
    assert handle_test_alert(parser.parse_args(["test-alert", "r"]), config) == 0
    receiver.fail(Response(500))
    assert handle_test_alert(parser.parse_args(["test-alert", "r"]), config) == 1
    assert "failed" in capsys.readouterr().out
