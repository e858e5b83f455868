"""`mentions --severity` and `--where severity=…`: a complaint's severity as a filter and in every output."""

from __future__ import annotations

import csv
import io
import json

import pytest

from monitor.cli import main


@pytest.fixture
def stored(db_url, severity_posts):
    """Severe, mild and no severity at all, through the real pipeline."""
    return db_url, severity_posts[1]


def _json(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_mentions_filter_and_show_severity(stored, capsys):
    db, ids = stored
    assert main(["mentions", "--db", db, "--format", "json"]) == 0
    every = {r["id"]: r["severity"] for r in _json(capsys)}
    assert every[ids["fraud"]] == "severe" and every[ids["thanks"]] is None
    assert every[ids["slow"]] in ("mild", "moderate")

    assert main(["mentions", "--db", db, "--severity", "severe", "--format", "json"]) == 0
    assert [r["id"] for r in _json(capsys)] == [ids["fraud"]]

    assert main(["mentions", "--db", db, "--severity", "severe", "--format", "csv"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["id"], row["severity"]) == (str(ids["fraud"]), "severe")

    assert main(["mentions", "--db", db]) == 0
    table = capsys.readouterr().out
    header = table.splitlines()[0].split()
    assert "sev" in header and "severe" in table

    with pytest.raises(SystemExit):
        main(["mentions", "--db", db, "--severity", "awful"])
    assert "invalid choice: 'awful'" in capsys.readouterr().err


def test_bulk_where_takes_severity_and_names_a_bad_value(stored, capsys):
    db, ids = stored
    assert main(["ack", "--where", "severity=severe", "--db", db]) == 0
    capsys.readouterr()
    assert main(["mentions", "--db", db, "--status", "acknowledged", "--format", "json"]) == 0
    assert [r["id"] for r in _json(capsys)] == [ids["fraud"]]
    assert main(["ack", "--where", "severity=awful", "--db", db]) == 2
    assert "severity='awful' is not one of severe, moderate, mild" in capsys.readouterr().err


def test_show_names_the_severity(stored, capsys):
    db, ids = stored
    assert main(["show", str(ids["fraud"]), "--db", db]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "complaint (severe) · urgency" in first
