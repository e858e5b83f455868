"""`mentions --severity` and `--where severity=…`: a complaint's severity as a filter and in every output."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from monitor.cli import main
from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store.db import make_engine, migrate

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
POSTS = {
    "fraud": "@acme you charged me twice, this is fraud. My lawyer will call.",
    "slow": "@acme the app is a bit slow today, not great",
    "thanks": "@acme thank you, lovely service today!",
}


@pytest.fixture
def stored(db_url):
    """Three posts through the real pipeline (real triage): severe, mild and no severity at all."""
    engine = make_engine(db_url)
    migrate(engine)
    config = parse_config({"brand": {"names": ["Acme"], "handles": {"x": ["acme"]}}})
    mentions = [
        Mention("x", name, text, T0 + timedelta(minutes=i), f"user{i}", addressed_to_brand=True)
        for i, (name, text) in enumerate(POSTS.items())
    ]
    result = Pipeline(engine, config, alerts_enabled=False).ingest(mentions, source="x")
    engine.dispose()
    return db_url, dict(zip(POSTS, result.stored_ids, strict=True))


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
