"""The status workflow writes the change and its audit event together."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from monitor import workflow
from monitor.cli import main
from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import models as m

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 9, 5, tzinfo=UTC)


@pytest.fixture
def stored(engine):
    p = Pipeline(engine, parse_config({"brand": {"names": ["Acme"]}}), clock=lambda: T0)
    r = p.ingest([Mention("x", str(i), f"Acme post {i}", T0, f"user{i}") for i in range(3)], source="x")
    return r.stored_ids


def events(engine):
    with engine.connect() as conn:
        return conn.execute(select(m.Event.__table__).order_by(m.Event.__table__.c.id)).mappings().all()


def test_ack_resolve_and_audit(engine, stored):
    a, b, _ = stored
    out = workflow.acknowledge(engine, [a, b, 999], actor="ana", now=T1)
    assert [o.result for o in out] == ["changed", "changed", "missing"]
    assert workflow.acknowledge(engine, [a], actor="ana", now=T1)[0].result == "unchanged"
    workflow.resolve(engine, [a], actor="ben", now=T1, note="refunded")
    with engine.connect() as conn:
        row = conn.execute(select(m.Mention.__table__).where(m.Mention.__table__.c.id == a)).mappings().one()
    assert row["status"] == "resolved" and row["acknowledged_at"] == T1 and row["resolved_at"] == T1
    ev = events(engine)
    assert [(e["action"], e["actor"], e["detail"].get("after")) for e in ev] == [
        ("acknowledge", "ana", "acknowledged"),
        ("acknowledge", "ana", "acknowledged"),
        ("resolve", "ben", "resolved"),
    ]
    assert ev[-1]["detail"]["note"] == "refunded" and ev[-1]["at"] == T1


def test_assign_and_relabel(engine, stored):
    a = stored[0]
    assert workflow.assign(engine, [a], "carla", actor="lead")[0].result == "changed"
    assert workflow.assign(engine, [a], "carla", actor="lead")[0].result == "unchanged"
    workflow.correct_label(engine, a, "complaint", actor="carla")
    with pytest.raises(workflow.WorkflowError, match="unknown label"):
        workflow.correct_label(engine, a, "angry", actor="carla")
    with engine.connect() as conn:
        corr = conn.execute(select(m.LabelCorrection.__table__)).mappings().one()
        row = conn.execute(select(m.Mention.__table__).where(m.Mention.__table__.c.id == a)).mappings().one()
    assert corr["corrected"] == "complaint" and corr["actor"] == "carla"
    assert row["assignee"] == "carla" and row["label"] == "complaint"


def test_cli_workflow_commands(db_url, stored, capsys):
    a, b, _ = stored
    assert main(["ack", str(a), "--db", db_url, "--as", "zoe"]) == 0
    assert main(["assign", str(a), str(b), "--to", "zoe", "--db", db_url]) == 0
    assert main(["ignore", str(b), "--db", db_url, "--note", "spam"]) == 0
    assert main(["resolve", "424242", "--db", db_url]) == 1
    assert "no mention with id 424242" in capsys.readouterr().err
    assert main(["mentions", "--db", db_url, "--status", "ignored", "--format", "json"]) == 0
    import json

    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [b] and rows[0]["assignee"] == "zoe"
    assert {"polarity", "subjectivity", "label", "urgency", "reasons", "raw"} <= set(rows[0])
