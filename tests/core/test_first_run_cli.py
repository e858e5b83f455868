"""The commands a new user runs first tell the truth: exit codes, the file read, what changed.

Each test reproduces a defect of issue 15 on real SQLite files, real Apprise and subprocesses
where the console width or the environment matters.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
import yaml
from sqlalchemy import select

from monitor import workflow
from monitor.cli import main
from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import models as m

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 9, 5, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 9, 10, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stored(engine):
    p = Pipeline(engine, parse_config({"brand": {"names": ["Acme"]}}), clock=lambda: T0)
    r = p.ingest([Mention("x", str(i), f"Acme post {i}", T0, f"user{i}") for i in range(3)], source="x")
    return r.stored_ids


def rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(table.__table__)).mappings().all()


# ----------------------------------------------------------------------------- item 6


def test_reopen_clears_resolved_at(engine, stored):
    a = stored[0]
    workflow.resolve(engine, [a], actor="ana", now=T1)
    assert workflow.transition(engine, [a], "reopen", actor="ana", now=T2)[0].result == "changed"
    (row,) = [r for r in rows(engine, m.Mention) if r["id"] == a]
    assert row["status"] == "acknowledged" and row["resolved_at"] is None


def test_relabel_to_the_same_label_records_nothing(engine, stored):
    a = stored[0]
    workflow.correct_label(engine, a, "praise", actor="ana", now=T1)
    events_before = len(rows(engine, m.Event))
    outcome = workflow.correct_label(engine, a, "praise", actor="ben", now=T2)
    assert outcome.result == "unchanged"
    assert len(rows(engine, m.Event)) == events_before
    assert [(c["predicted"], c["corrected"]) for c in rows(engine, m.LabelCorrection)] == [
        (rows(engine, m.LabelCorrection)[0]["predicted"], "praise")
    ]


# ----------------------------------------------------------------------------- item 7


def test_poll_once_exits_1_when_an_alert_delivery_failed(tmp_path, capsys):
    dead = free_port()  # nothing listens here: Apprise's POST is refused, a definite failure
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "brand": {"names": ["Acme"], "handles": {"simulated": ["acme"]}},
                "sources": {"simulated": {"interval": 1, "per_poll": 40, "seed": 7}},
                "alerts": {
                    "routes": [
                        {"name": "urgent", "match": {"priority": "P1"}, "notify": [f"json://127.0.0.1:{dead}/hook"]}
                    ],
                    "retry": {"max_attempts": 1},
                },
                "storage": {"url": f"sqlite:///{tmp_path / 'm.db'}"},
            }
        )
    )
    assert main(["poll-once", "-c", str(config)]) == 1
    printed = capsys.readouterr().out
    assert "simulated:" in printed and "alert delivery(ies) failed" in printed
    assert "mention-monitor alerts --status failed" in printed
