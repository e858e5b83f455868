"""Importing history: CSV and JSON Lines, idempotent, bad rows named, nothing lost."""

from __future__ import annotations

import csv
import json

from monitor.cli import main
from monitor.importer import parse_time


def write_csv(path, rows, fields):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def mentions_json(db_url, capsys, *extra):
    assert main(["mentions", "--db", db_url, "--format", "json", "--limit", "1000", *extra]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_csv_import_is_idempotent_and_keeps_extra_columns(tmp_path, db_url, capsys):
    f = tmp_path / "history.csv"
    fields = ["text", "author", "created_at", "platform", "external_id", "followers", "campaign"]
    write_csv(
        f,
        [
            {
                "text": "Acme lost my parcel, still waiting after 2 weeks",
                "author": "@amy",
                "created_at": "2026-10-01T10:00:00Z",
                "platform": "x",
                "external_id": "111",
                "followers": "1200",
                "campaign": "autumn",
            },
            {
                "text": "Love my Acme kettle",
                "author": "bo",
                "created_at": "Mon Dec 01 19:30:03 +0000 2025",
                "platform": "",
                "external_id": "",
                "followers": "",
                "campaign": "",
            },
        ],
        fields,
    )
    assert main(["import", str(f), "--db", db_url, "--quiet"]) == 0
    assert "2 new mention(s)" in capsys.readouterr().out
    assert main(["import", str(f), "--db", db_url, "--quiet"]) == 0
    assert "0 new mention(s), 2 already stored" in capsys.readouterr().out
    rows = {r["author_handle"]: r for r in mentions_json(db_url, capsys)}
    assert rows["amy"]["platform"] == "x" and rows["amy"]["author_followers"] == 1200
    assert rows["amy"]["raw"] == {"imported": {"campaign": "autumn"}}
    assert rows["bo"]["platform"] == "import" and rows["bo"]["external_id"].startswith("import-")
    assert rows["bo"]["created_at"].startswith("2025-12-01T19:30:03")


def test_bad_rows_are_named_and_good_rows_kept(tmp_path, db_url, capsys):
    f = tmp_path / "mixed.jsonl"
    f.write_text(
        "\n".join(
            [
                json.dumps(
                    {"text": "Acme support was quick", "author": "cy", "created_at": "2026-11-01T08:00:00"}
                ),
                "{not json",
                json.dumps({"text": "", "author": "dee", "created_at": "2026-11-01T08:00:00"}),
                json.dumps({"text": "Acme ok", "author": "eve", "created_at": "yesterday-ish"}),
                json.dumps(
                    {"text": "Acme ok", "author": "fay", "created_at": 1762000000, "followers": "many"}
                ),
            ]
        )
        + "\n"
    )
    rejects = tmp_path / "rejects.csv"
    assert main(["import", str(f), "--db", db_url, "--quiet", "--rejects", str(rejects)]) == 1
    captured = capsys.readouterr()
    assert "1 new mention(s)" in captured.out and "4 rejected" in captured.out
    assert "line 2: not valid JSON" in captured.err
    assert "line 3: text is missing or empty" in captured.err
    assert "line 4: created_at 'yesterday-ish' is not a date/time" in captured.err
    assert "line 5: followers 'many' is not a number" in captured.err
    assert rejects.read_text().count("\n") == 5
    assert [r["author_handle"] for r in mentions_json(db_url, capsys)] == ["cy"]


def test_csv_without_required_columns_is_refused(tmp_path, sqlite_url, capsys):
    f = tmp_path / "wrong.csv"
    write_csv(f, [{"tweet": "hi", "user": "x"}], ["tweet", "user"])
    assert main(["import", str(f), "--db", sqlite_url, "--quiet"]) == 2
    assert "missing column(s) author, created_at, text" in capsys.readouterr().err


def test_parse_time_forms():
    assert parse_time("2026-11-01T10:00:00+02:00").isoformat() == "2026-11-01T08:00:00+00:00"
    assert parse_time(0).year == 1970
    assert parse_time("2015-02-24 11:35:52 -0800").hour == 19
