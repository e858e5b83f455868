"""The team's severity is the mention's: `label` (one id, a label file) sets or clears it, the
correction keeps triage's (``predicted_severity``), and `triage-eval` compares the two."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import select

from monitor import workflow
from monitor.cli import main
from monitor.store import models as m
from tests.conftest import SEVERITY_POSTS


@pytest.fixture
def stored(severity_posts):
    """Severe, mild and praise (no severity), as triage gave them."""
    engine, ids = severity_posts
    assert _mention(engine, ids["fraud"])[:2] == ("complaint", "severe")  # triage's own verdicts
    assert _mention(engine, ids["slow"])[:2] == ("complaint", "mild")
    assert _mention(engine, ids["thanks"])[:2] == ("praise", None)
    return engine, ids


def _mention(engine, mention_id: int) -> tuple:
    t = m.Mention.__table__
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(t.c.label, t.c.severity, t.c.version).where(t.c.id == mention_id)).one()
        )


def _corrections(engine, mention_id: int) -> list[tuple]:
    c = m.LabelCorrection.__table__
    q = (
        select(c.c.predicted, c.c.corrected, c.c.severity, c.c.predicted_severity)
        .where(c.c.mention_id == mention_id)
        .order_by(c.c.id)
    )
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]


def _events(engine, mention_id: int) -> list[tuple]:
    e = m.Event.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(e.c.action, e.c.detail).where(e.c.mention_id == mention_id).order_by(e.c.id)
        )
        return [(r.action, r.detail) for r in rows]


def _severities(db_url: str, capsys, *args: str) -> dict[int, str | None]:
    capsys.readouterr()
    assert main(["mentions", "--db", db_url, "--format", "json", *args]) == 0
    return {r["id"]: r["severity"] for r in map(json.loads, capsys.readouterr().out.splitlines())}


def test_label_one_id_sets_moves_and_clears_the_severity(db_url, stored, capsys) -> None:
    engine, ids = stored
    fraud = ids["fraud"]
    label = ["--db", db_url, "--as", "ann"]
    # The same label with the team's severity: the mention changes (version, audit event).
    assert main(["label", str(fraud), "complaint", "--severity", "mild", *label]) == 0
    assert f"#{fraud}: new — label complaint, severity mild (was severe)" in capsys.readouterr().out
    assert _mention(engine, fraud) == ("complaint", "mild", 1)
    assert _corrections(engine, fraud) == [("complaint", "complaint", "mild", "severe")]
    assert _events(engine, fraud) == [
        ("severity", {"before": "severe", "after": "mild", "label": "complaint"})
    ]
    assert fraud in _severities(db_url, capsys, "--severity", "mild")
    assert fraud not in _severities(db_url, capsys, "--severity", "severe")
    # Said again (with or without the severity): nothing is recorded twice.
    assert main(["label", str(fraud), "complaint", "--severity", "mild", *label]) == 0
    assert main(["label", str(fraud), "complaint", *label]) == 0
    assert capsys.readouterr().out.count("unchanged (already labelled complaint)") == 2
    assert len(_corrections(engine, fraud)) == 1 and _mention(engine, fraud)[2] == 1
    # Another label clears the severity; the correction keeps the one it replaced.
    assert main(["label", str(fraud), "spam", *label]) == 0
    assert "label spam, no severity (was mild)" in capsys.readouterr().out
    assert _mention(engine, fraud) == ("spam", None, 2)
    assert _corrections(engine, fraud)[-1] == ("complaint", "spam", None, "mild")
    assert _events(engine, fraud)[-1] == (
        "relabel",
        {
            "before": "complaint",
            "after": "spam",
            "severity_before": "mild",
            "severity_after": None,
            # spam is not urgent: spam's base urgency and P3; triage's P1 stays in the event
            "priority_before": "P1",
            "priority_after": "P3",
            "urgency_before": 99,
            "urgency_after": 0,
        },
    )
    assert _severities(db_url, capsys)[fraud] is None
    # Back to complaint without a severity: it keeps what it has (none now).
    assert main(["label", str(fraud), "complaint", *label]) == 0
    assert _mention(engine, fraud) == ("complaint", None, 3)
    assert _events(engine, fraud)[-1] == (
        "relabel",
        {
            "before": "spam",
            "after": "complaint",
            # a complaint again: at least a complaint's base urgency (not triage's 99: the team
            # called it spam in between, and a relabel never makes a P1)
            "priority_before": "P3",
            "priority_after": "P3",
            "urgency_before": 0,
            "urgency_after": 30,
        },
    )
    # complaint alone on a complaint triage rated keeps triage's severity (a confirmation).
    assert main(["label", str(ids["slow"]), "complaint", *label]) == 0
    assert _mention(engine, ids["slow"]) == ("complaint", "mild", 0)
    assert _corrections(engine, ids["slow"]) == [("complaint", "complaint", None, "mild")]
    capsys.readouterr()
    assert main(["show", str(fraud), "--db", db_url]) == 0
    history = capsys.readouterr().out
    assert "ann: severity severe → mild" in history
    assert "ann: relabel complaint → spam (severity mild → —) (priority P1 → P3, urgency 99 → 0)" in history
    assert "ann: relabel spam → complaint (priority P3 → P3, urgency 0 → 30)\n" in history
    assert "confirmed label complaint" not in history  # the severity change is the event, shown once
    # A severity goes with complaint only: refused before anything is written.
    assert main(["label", str(ids["thanks"]), "praise", "--severity", "mild", *label]) == 2
    assert "a severity goes with the label complaint, not praise" in capsys.readouterr().err
    assert _corrections(engine, ids["thanks"]) == [] and _mention(engine, ids["thanks"]) == (
        "praise",
        None,
        0,
    )


def test_a_stale_screen_cannot_change_the_severity(stored) -> None:
    engine, ids = stored
    fraud = ids["fraud"]
    seen = _mention(engine, fraud)[2]
    done = workflow.correct_label(
        engine, fraud, "complaint", actor="bob", severity="moderate", expect_version=seen
    )
    assert (done.result, done.version) == ("changed", seen + 1)
    with pytest.raises(workflow.Conflict, match=r"given another severity by bob"):
        workflow.correct_label(
            engine, fraud, "complaint", actor="carla", severity="mild", expect_version=seen
        )
    assert _mention(engine, fraud)[:2] == ("complaint", "moderate")
    assert len(_corrections(engine, fraud)) == 1


def _write_labels(path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["platform", "external_id", "label", "severity"])
        w.writerows(rows)


def test_a_label_file_sets_and_clears_severities_and_a_rerun_records_nothing(
    tmp_path, db_url, stored, capsys
) -> None:
    engine, ids = stored
    labels = tmp_path / "labels.csv"
    _write_labels(
        labels,
        [
            ("x", "fraud", "complaint", "moderate"),
            ("x", "slow", "spam", ""),
            ("x", "thanks", "praise", "severe"),  # a severity without complaint: this row only fails
        ],
    )
    assert main(["label", "--file", str(labels), "--db", db_url, "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "2 changed, 0 unchanged, 1 row(s) not applied" in captured.out
    assert "line 4: a severity goes with the label complaint, not praise" in captured.err
    assert _mention(engine, ids["fraud"]) == ("complaint", "moderate", 1)
    assert _mention(engine, ids["slow"]) == ("spam", None, 1)
    assert _mention(engine, ids["thanks"]) == ("praise", None, 0)
    first = {key: _corrections(engine, ids[key]) for key in SEVERITY_POSTS}
    assert first == {
        "fraud": [("complaint", "complaint", "moderate", "severe")],
        "slow": [("complaint", "spam", None, "mild")],
        "thanks": [],
    }
    assert main(["label", "--file", str(labels), "--db", db_url, "--quiet"]) == 1
    assert "0 changed, 2 unchanged, 1 row(s) not applied" in capsys.readouterr().out
    assert {key: _corrections(engine, ids[key]) for key in SEVERITY_POSTS} == first
    assert [_mention(engine, ids[key])[2] for key in SEVERITY_POSTS] == [1, 1, 0]
    assert _severities(db_url, capsys, "--severity", "moderate") == {ids["fraud"]: "moderate"}
    assert _severities(db_url, capsys, "--severity", "mild") == {}


def test_triage_eval_compares_triage_severity_with_the_teams(tmp_path, db_url, stored, capsys) -> None:
    engine, ids = stored
    config = tmp_path / "config.yaml"
    config.write_text(
        f"brand:\n  names: [Acme]\n  handles:\n    x: [acme]\nstorage:\n  url: '{db_url}'\n", encoding="utf-8"
    )
    # Only a label so far: the severity part says there is nothing to compare yet.
    assert main(["label", str(ids["thanks"]), "praise", "-c", str(config)]) == 0
    capsys.readouterr()
    assert main(["triage-eval", "-c", str(config)]) == 0
    assert "severity: none of the corrections rates a complaint's severity yet" in capsys.readouterr().out
    # The team rates both complaints mild: triage (severe, mild) agrees on one.
    for key in ("fraud", "slow"):
        assert main(["label", str(ids[key]), "complaint", "--severity", "mild", "-c", str(config)]) == 0
    assert _mention(engine, ids["fraud"])[1] == "mild"
    capsys.readouterr()
    assert main(["triage-eval", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "severity: 2 complaint(s) your team rated" in lines
    # The agreement table: the team's mild ones are severe 1, moderate 0, mild 1, not a complaint 0.
    assert any(line.startswith("mild 1 0 1 0 ") for line in lines)
    assert "severity precision recall F1 triage team" in lines
    assert "severe 0.0% – – 1 0" in lines  # triage called one severe, the team none
    assert "mild 100.0% 50.0% 0.667 1 2" in lines
    assert "moderate – – – 0 0" in lines
    assert "same severity as your team: 1 of 2 (50%) with the current settings" in lines
    # triage-eval re-runs the current settings; the stored severity (before the team's) agrees too.
    assert "(as triage stored them, before your team's corrections: 1 of 2 (50%))" in lines
