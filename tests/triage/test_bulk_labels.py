"""Learning in bulk: `label --file` (ids or platform+external_id, severity, errors by line) and
`triage-train --from FILE` on any labelled CSV/JSONL file."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from monitor.cli import main
from monitor.store import models as m
from monitor.triage.learned import load_model
from tests.triage.conftest import write_csv


@pytest.fixture
def stored(imported):
    return imported(
        [
            ("a1", "@acme my parcel never came"),
            ("a2", "love the new kettle"),
            ("a3", "win a free phone, click here"),
        ]
    )


def test_label_file_by_id_and_by_platform_key_with_severity(tmp_path, sqlite_url, stored, capsys) -> None:
    engine, ids = stored
    labels = tmp_path / "labels.csv"
    write_csv(
        labels,
        ["id", "platform", "external_id", "label", "severity"],
        [
            (ids["a1"], "", "", "complaint", "severe"),
            ("", "x", "a3", "spam", ""),
            ("", "x", "nope", "praise", ""),
            (ids["a2"], "", "", "grumpy", ""),
            (ids["a2"], "", "", "praise", "awful"),
        ],
    )
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet", "--as", "ann"]) == 1
    captured = capsys.readouterr()
    assert "2 changed" in captured.out and "3 row(s) not applied" in captured.out
    # Errors name the line of the file (header is line 1).
    assert "line 4: no mention x/nope" in captured.err
    assert "line 5: label 'grumpy'" in captured.err
    assert "line 6: severity 'awful'" in captured.err
    with engine.connect() as conn:
        corrections = {
            r.mention_id: (r.corrected, r.severity, r.actor)
            for r in conn.execute(select(m.LabelCorrection.__table__))
        }
        labels_now = dict(conn.execute(select(m.Mention.external_id, m.Mention.label)).all())
    assert corrections[ids["a1"]] == ("complaint", "severe", "ann")
    assert corrections[ids["a3"]][0] == "spam"
    assert labels_now["a3"] == "spam"
    assert ids["a2"] not in corrections


def test_label_one_id_with_severity(sqlite_url, stored, capsys) -> None:
    engine, ids = stored
    a1, a2 = str(ids["a1"]), str(ids["a2"])
    assert main(["label", a1, "complaint", "--severity", "moderate", "--db", sqlite_url, "--as", "ann"]) == 0
    assert "label complaint, severity moderate" in capsys.readouterr().out
    # Bad values and misplaced --severity are refused before anything is written.
    with pytest.raises(SystemExit):
        main(["label", a2, "complaint", "--severity", "awful", "--db", sqlite_url])
    assert "invalid choice: 'awful' (choose from 'severe', 'moderate', 'mild')" in capsys.readouterr().err
    assert main(["label", "spam", "--where", "search=phone", "--severity", "mild", "--db", sqlite_url]) == 2
    assert "--severity goes with label ID" in capsys.readouterr().err
    with engine.connect() as conn:
        rows = [
            (r.mention_id, r.corrected, r.severity, r.actor)
            for r in conn.execute(select(m.LabelCorrection.__table__))
        ]
        severity_now = dict(conn.execute(select(m.Mention.external_id, m.Mention.severity)).all())
    assert rows == [(ids["a1"], "complaint", "moderate", "ann")]
    assert severity_now["a1"] == "moderate"  # the mention shows the team's severity


def test_label_file_jsonl_and_bad_json_line(tmp_path, sqlite_url, stored, capsys) -> None:
    _, ids = stored
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"id": ids["a2"], "label": "praise"}) + "\n{not json\n", encoding="utf-8")
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "1 changed" in captured.out
    assert "line 2: not valid JSON" in captured.err


def test_label_file_missing_is_a_usage_error(tmp_path, sqlite_url, stored, capsys) -> None:
    assert main(["label", "--file", str(tmp_path / "none.csv"), "--db", sqlite_url]) == 2
    assert "no such file" in capsys.readouterr().err


_TRAIN = [
    ("my order never arrived and nobody answers", "yes"),
    ("charged twice, I want a refund now", "yes"),
    ("the app keeps crashing when I pay", "yes"),
    ("still waiting for my parcel after two weeks", "yes"),
    ("support hung up on me again", "yes"),
    ("lovely staff, quick delivery, thank you", "no"),
    ("what time do you open on sunday", "no"),
    ("great kettle, works perfectly", "no"),
    ("saw your van on the motorway today", "no"),
    ("thanks for sorting my account so fast", "no"),
]


def test_triage_train_from_csv_with_named_columns(tmp_path, capsys) -> None:
    data = tmp_path / "labelled.csv"
    rows = [(t, lab) for t, lab in _TRAIN * 6] + [("", "yes"), ("fine", "maybe")]
    write_csv(data, ["Tweet", "Is Complaint"], rows)
    out = tmp_path / "model.json.gz"
    code = main(
        [
            "triage-train",
            "--from",
            str(data),
            "--text-column",
            "Tweet",
            "--label-column",
            "Is Complaint",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "trained on 60 row(s)" in captured.out and "2 row(s) skipped" in captured.out
    assert "line 62: Tweet is missing or empty" in captured.err
    model = load_model(out)
    assert model is not None
    assert model.complaint_score("nobody answers, still waiting for my refund") > model.complaint_score(
        "thank you, lovely staff"
    )


def test_triage_train_from_jsonl_and_missing_columns(tmp_path, capsys) -> None:
    data = tmp_path / "labelled.jsonl"
    data.write_text(
        "".join(
            json.dumps({"text": t, "label": "complaint" if lab == "yes" else "praise"}) + "\n"
            for t, lab in _TRAIN * 3
        ),
        encoding="utf-8",
    )
    assert main(["triage-train", "--from", str(data), "--out", str(tmp_path / "m.gz"), "--quiet"]) == 0
    bad = tmp_path / "bad.csv"
    write_csv(bad, ["body", "label"], [("x", "complaint")])
    assert main(["triage-train", "--from", str(bad), "--out", str(tmp_path / "m2.gz"), "--quiet"]) == 2
    assert "no column 'text'" in " ".join(capsys.readouterr().err.split())
