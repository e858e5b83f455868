"""Files that `import`, `label --file` and `triage-train --from` read: whatever a user hands them
(not UTF-8, a directory, semicolons, an unquoted comma) gets a clear error and loses nothing."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, func, select

from monitor.rowfile import RowError, RowFileError, read_rows
from monitor.store import models as m


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=120, check=False
    )


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def stored(tmp_path, sqlite_url) -> dict[str, int]:
    data = tmp_path / "history.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["external_id", "platform", "text", "author", "created_at"])
        w.writerow(["r1", "x", "@acme my parcel never came", "amy", "2026-10-01T10:00:00Z"])
        w.writerow(["r2", "x", "love the new kettle", "bo", "2026-10-01T10:01:00Z"])
    assert _cli("import", str(data), "--db", sqlite_url, "--quiet").returncode == 0
    with create_engine(sqlite_url).connect() as conn:
        return dict(conn.execute(select(m.Mention.external_id, m.Mention.id)).all())


def _corrections(sqlite_url: str) -> int:
    with create_engine(sqlite_url).connect() as conn:
        return conn.execute(select(func.count()).select_from(m.LabelCorrection.__table__)).scalar_one()


def test_a_file_that_is_not_utf8_is_refused_before_any_row_is_applied(tmp_path, sqlite_url, stored) -> None:
    labels = tmp_path / "labels.csv"
    # The first row is fine; the third was saved by a Latin-1 spreadsheet ("é" as one byte).
    labels.write_bytes(
        f"id,label\n{stored['r1']},spam\n{stored['r2']},praise\n9,r\xe9sum\xe9\n".encode("latin-1")
    )
    run = _cli("label", "--file", str(labels), "--db", sqlite_url)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    said = _flat(run.stderr)
    assert (
        "line 4 is not UTF-8" in said
        and "save the file as UTF-8" in said
        and "nothing in it was used" in said
    )
    assert _corrections(sqlite_url) == 0

    train = tmp_path / "train.csv"
    train.write_bytes("text,label\ncaf\xe9 froid,complaint\n".encode("latin-1"))
    run = _cli("triage-train", "--from", str(train), "--out", str(tmp_path / "m.json.gz"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "line 2 is not UTF-8" in _flat(run.stderr)

    history = tmp_path / "history.csv"
    history.write_bytes("text,author,created_at\n@acme caf\xe9,bob,2026-12-01T10:00:00Z\n".encode("latin-1"))
    run = _cli("import", str(history), "--db", sqlite_url)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "line 2 is not UTF-8" in _flat(run.stderr)


def test_a_directory_is_named_as_one(tmp_path, sqlite_url, stored) -> None:
    folder = tmp_path / "labels.csv"
    folder.mkdir()
    for args in (
        ["label", "--file", str(folder), "--db", sqlite_url],
        ["triage-train", "--from", str(folder), "--out", str(tmp_path / "m.json.gz")],
        ["import", str(folder), "--db", sqlite_url],
    ):
        run = _cli(*args)
        assert run.returncode == 2, (args, run.stderr)
        assert "is a directory" in _flat(run.stderr), (args, run.stderr)


def test_semicolon_and_tab_separated_files_are_read(tmp_path) -> None:
    # Spreadsheets in French or German locales save "CSV" with semicolons.
    semi = tmp_path / "semi.csv"
    semi.write_text("\ufeffid;label;severity\n7;complaint;severe\n8;praise;\n", encoding="utf-8")
    assert [row for _, row in read_rows(semi)] == [
        {"id": "7", "label": "complaint", "severity": "severe"},
        {"id": "8", "label": "praise", "severity": ""},
    ]
    tab = tmp_path / "tab.csv"
    tab.write_text("text\tlabel\nit broke, again\tcomplaint\n", encoding="utf-8")
    assert [row for _, row in read_rows(tab)] == [{"text": "it broke, again", "label": "complaint"}]
    # A comma file whose texts contain semicolons stays a comma file.
    comma = tmp_path / "comma.csv"
    comma.write_text('text,label\n"late; again; sigh",complaint\n', encoding="utf-8")
    assert [row for _, row in read_rows(comma)] == [{"text": "late; again; sigh", "label": "complaint"}]


def test_a_row_with_more_values_than_columns_says_so(tmp_path) -> None:
    data = tmp_path / "history.csv"
    data.write_text(
        "text,author,created_at\n"
        "@acme late, again,bob,2026-12-01T10:00:00Z\n"  # unquoted comma in the text
        "@acme fine,amy,2026-12-01T10:00:00Z,\n",  # a trailing empty value (spreadsheets write these)
        encoding="utf-8",
    )
    rows = list(read_rows(data))
    line, bad = rows[0]
    assert line == 2 and isinstance(bad, RowError)
    assert "4 values for 3 columns" in bad.reason and "double quotes" in bad.reason
    assert rows[1] == (3, {"text": "@acme fine", "author": "amy", "created_at": "2026-12-01T10:00:00Z"})


def test_read_rows_raises_the_callers_error_for_a_directory(tmp_path) -> None:
    with pytest.raises(RowFileError, match="is a directory"):
        list(read_rows(tmp_path))


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_an_empty_json_lines_file_is_an_error_as_an_empty_csv_is(
    tmp_path, sqlite_url, stored, content
) -> None:
    empty = tmp_path / "labels.jsonl"
    empty.write_text(content, encoding="utf-8")
    for args in (
        ["label", "--file", str(empty), "--db", sqlite_url],
        ["import", str(empty), "--db", sqlite_url],
        ["triage-train", "--from", str(empty), "--out", str(tmp_path / "m.json.gz")],
    ):
        run = _cli(*args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert "empty file" in _flat(run.stderr), (args, run.stderr)


def test_row_count_for_the_progress_bar_counts_a_last_line_without_newline(tmp_path) -> None:
    from monitor.rowfile import count_rows

    csv_file = tmp_path / "labels.csv"
    csv_file.write_text("id,label\n1,spam\n2,spam", encoding="utf-8")  # as many editors save it
    assert count_rows(csv_file) == len(list(read_rows(csv_file))) == 2
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text('{"id": 1}\n{"id": 2}', encoding="utf-8")
    assert count_rows(jsonl) == 2
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert count_rows(tmp_path / "empty.csv") == 0
