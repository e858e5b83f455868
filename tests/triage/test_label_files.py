"""`label --file` and `triage-train --from` as a new user runs them: misnamed columns, the same
mention twice, a rerun, an interrupted run, a model path that cannot be written."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import create_engine, select

from monitor.cli import main
from monitor.store import models as m


def _write_csv(path, header, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def stored(tmp_path, sqlite_url, capsys):
    data = tmp_path / "history.csv"
    _write_csv(
        data,
        ["external_id", "platform", "text", "author", "created_at"],
        [
            ("k1", "x", "@acme my parcel never came", "amy", "2026-10-01T10:00:00Z"),
            ("k2", "x", "love the new kettle", "bo", "2026-10-01T10:01:00Z"),
            ("k3", "x", "what time do you open on sunday", "cy", "2026-10-01T10:02:00Z"),
        ],
    )
    assert main(["import", str(data), "--db", sqlite_url, "--quiet"]) == 0
    capsys.readouterr()
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(m.Mention.external_id, m.Mention.id)).all())
    return engine, ids


def _corrections(engine) -> list[tuple[int, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(m.LabelCorrection.__table__).order_by(m.LabelCorrection.id))
        return [(r.mention_id, r.corrected, r.severity) for r in rows]


@pytest.mark.parametrize(
    ("header", "said"),
    [
        (["id", "lable"], "no column 'label'; found id, lable"),
        (
            ["mention", "label"],
            "no column to find the mention by (id, mention_id, or platform and external_id)",
        ),
        (["platform", "label"], "no column to find the mention by"),
    ],
)
def test_label_file_without_the_needed_columns_is_refused_whole(
    tmp_path, sqlite_url, stored, capsys, header, said
) -> None:
    engine, ids = stored
    labels = tmp_path / "labels.csv"
    _write_csv(labels, header, [(ids["k1"], "spam"), (ids["k2"], "spam")])
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet"]) == 2
    err = _flat(capsys.readouterr().err)
    assert said in err, err
    assert _corrections(engine) == []


def test_label_jsonl_whose_first_object_lacks_the_label_key_is_refused(
    tmp_path, sqlite_url, stored, capsys
) -> None:
    engine, ids = stored
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "".join(json.dumps({"id": ids[k], "tag": "spam"}) + "\n" for k in ("k1", "k2")), encoding="utf-8"
    )
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet"]) == 2
    assert "no key 'label' in the first object; found id, tag" in _flat(capsys.readouterr().err)
    assert _corrections(engine) == []


def test_training_jsonl_with_other_key_names_points_to_the_options(tmp_path, capsys) -> None:
    data = tmp_path / "tweets.jsonl"
    data.write_text(
        "".join(
            json.dumps({"tweet": t, "sentiment": s}) + "\n"
            for t, s in [("my order never came", "complaint"), ("lovely kettle", "praise")] * 10
        ),
        encoding="utf-8",
    )
    code = main(["triage-train", "--from", str(data), "--out", str(tmp_path / "m.json.gz"), "--quiet"])
    assert code == 2
    err = _flat(capsys.readouterr().err)
    assert "no key 'text', 'label' in the first object; found tweet, sentiment" in err
    assert "--text-column/--label-column" in err
    assert not (tmp_path / "m.json.gz").exists()
