"""`label --file` and `triage-train --from` as a new user runs them: misnamed columns, the same
mention twice, a rerun, an interrupted run, a model path that cannot be written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, func, select

from monitor.cli import main
from monitor.store import models as m
from tests.triage.conftest import write_csv


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def stored(imported):
    return imported(
        [
            ("k1", "@acme my parcel never came"),
            ("k2", "love the new kettle"),
            ("k3", "what time do you open on sunday"),
        ]
    )


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
    write_csv(labels, header, [(ids["k1"], "spam"), (ids["k2"], "spam")])
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


def test_rerunning_a_label_file_with_severities_records_nothing_twice(
    tmp_path, sqlite_url, stored, capsys
) -> None:
    engine, ids = stored
    labels = tmp_path / "labels.csv"
    # k1 is a complaint already (triage agrees): the row confirms it with the team's severity.
    write_csv(
        labels, ["id", "label", "severity"], [(ids["k1"], "complaint", "severe"), (ids["k2"], "spam", "")]
    )
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet"]) == 0
    assert "2 changed, 0 unchanged" in capsys.readouterr().out
    first = _corrections(engine)
    assert sorted(first) == sorted([(ids["k1"], "complaint", "severe"), (ids["k2"], "spam", None)])
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet"]) == 0
    assert "0 changed, 2 unchanged" in capsys.readouterr().out
    assert _corrections(engine) == first
    # The one-id form too; a different severity is new information and is recorded.
    assert main(["label", str(ids["k1"]), "complaint", "--severity", "severe", "--db", sqlite_url]) == 0
    assert "already labelled complaint" in capsys.readouterr().out
    assert _corrections(engine) == first
    assert main(["label", str(ids["k1"]), "complaint", "--severity", "mild", "--db", sqlite_url]) == 0
    assert _corrections(engine) == [*first, (ids["k1"], "complaint", "mild")]


def test_the_same_mention_twice_in_one_file(tmp_path, sqlite_url, stored, capsys) -> None:
    engine, ids = stored
    labels = tmp_path / "labels.csv"
    write_csv(
        labels,
        ["id", "platform", "external_id", "label"],
        [
            (ids["k2"], "", "", "praise"),
            ("", "x", "k2", "spam"),  # the same mention by its platform key, another label
            (ids["k3"], "", "", "question"),
            (ids["k3"], "", "", "question"),  # an exact repeat: nothing to report
        ],
    )
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "1 row(s) not applied" in captured.out
    assert f"line 3: mention #{ids['k2']} is also on line 2 with another label" in _flat(captured.err)
    with engine.connect() as conn:
        label = conn.execute(select(m.Mention.label).where(m.Mention.id == ids["k2"])).scalar_one()
    assert label == "praise"
    assert [c for c in _corrections(engine) if c[0] == ids["k2"]] == [(ids["k2"], "praise", None)]
    assert len([c for c in _corrections(engine) if c[0] == ids["k3"]]) == 1


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _interrupt_when(proc: subprocess.Popen[str], ready, timeout: float = 120.0) -> None:
    """SIGINT (Ctrl-C) to ``proc`` as soon as ``ready()`` is true; polls, no fixed wait."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, "the command finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)


def _history(tmp_path, n: int):
    """A CSV of ``n`` posts on x (external ids h0…), for the interrupted-run tests."""
    history = tmp_path / "history.csv"
    write_csv(
        history,
        ["external_id", "platform", "text", "author", "created_at"],
        [(f"h{i}", "x", f"@acme parcel {i} never came", f"u{i}", "2026-10-01T10:00:00Z") for i in range(n)],
    )
    return history


def test_label_file_interrupted_says_what_was_saved_and_a_rerun_finishes_it(
    tmp_path, sqlite_url, capsys
) -> None:
    n = 4000
    history = _history(tmp_path, n)
    assert main(["import", str(history), "--db", sqlite_url, "--quiet"]) == 0
    capsys.readouterr()
    labels = tmp_path / "labels.csv"
    write_csv(
        labels,
        ["platform", "external_id", "label", "severity"],
        [("x", f"h{i}", "complaint" if i % 2 else "praise", "severe" if i % 2 else "") for i in range(n)],
    )
    engine = create_engine(sqlite_url)
    corrections = m.LabelCorrection.__table__
    args = [sys.executable, "-m", "monitor", "label", "--file", str(labels), "--db", sqlite_url]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _interrupt_when(proc, lambda: _count(engine, corrections) >= 500)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    saved = _count(engine, corrections)
    assert 0 < saved < n
    said = _flat(out + err)
    assert "Traceback" not in said
    assert f"interrupted: {saved:,} changed, 0 unchanged" in said, said
    assert "run the same command again" in said
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{n - saved:,} changed, {saved:,} unchanged, 0 row(s) not applied" in rerun.stdout
    assert _count(engine, corrections) == n
    with engine.connect() as conn:
        assert conn.execute(select(func.count(func.distinct(corrections.c.mention_id)))).scalar_one() == n


def test_import_interrupted_says_what_was_stored_and_a_rerun_finishes_it(tmp_path, sqlite_url) -> None:
    n = 4000
    history = _history(tmp_path, n)
    engine = create_engine(sqlite_url)
    args = [sys.executable, "-m", "monitor", "import", str(history), "--db", sqlite_url]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def some_stored() -> bool:
        try:
            return _count(engine, m.Mention.__table__) >= 500
        except Exception:  # the command has not made the tables yet
            return False

    _interrupt_when(proc, some_stored)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    stored = _count(engine, m.Mention.__table__)
    said = _flat(out + err)
    assert "Traceback" not in said
    assert f"{stored} new mention(s)" in said and "interrupted" in said, said
    assert "import the file again" in said
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{n - stored} new mention(s), {stored} already stored" in _flat(rerun.stdout)
    assert _count(engine, m.Mention.__table__) == n


_ROWS = [
    ("my order never arrived and nobody answers", "complaint"),
    ("charged twice, I want a refund now", "complaint"),
    ("lovely staff, quick delivery, thank you", "praise"),
    ("what time do you open on sunday", "question"),
]


def test_triage_train_refuses_one_class_and_too_few_rows(tmp_path, capsys) -> None:
    out = tmp_path / "m.json.gz"
    one = tmp_path / "one.csv"
    write_csv(one, ["text", "label"], [(f"{t} {i}", "complaint") for i, (t, _) in enumerate(_ROWS * 8)])
    assert main(["triage-train", "--from", str(one), "--out", str(out), "--quiet"]) == 1
    err = _flat(capsys.readouterr().err)
    assert "all 32 usable rows are complaints" in err and "--label-column" in err
    assert "Correct a few more labels" not in err  # that is advice for the stored corrections
    # The label column named is the text: every row fails alike.
    assert (
        main(["triage-train", "--from", str(one), "--label-column", "text", "--out", str(out), "--quiet"])
        == 1
    )
    assert "no usable row" in (err := _flat(capsys.readouterr().err)) and "--label-column 'text'" in err
    few = tmp_path / "few.csv"
    write_csv(few, ["text", "label"], _ROWS[:3])
    assert main(["triage-train", "--from", str(few), "--out", str(out), "--quiet"]) == 1
    assert "only 2 complaint(s) and 1 other row(s)" in _flat(capsys.readouterr().err)
    assert not out.exists()


def test_triage_train_out_that_cannot_be_written(tmp_path, capsys) -> None:
    data = tmp_path / "train.csv"
    write_csv(data, ["text", "label"], [(f"{t} {i}", lab) for i, (t, lab) in enumerate(_ROWS * 10)])
    folder = tmp_path / "models"
    folder.mkdir()
    assert main(["triage-train", "--from", str(data), "--out", str(folder), "--quiet"]) == 2
    assert "is a directory" in _flat(capsys.readouterr().err)
    assert not (tmp_path / "models.tmp").exists()
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(["triage-train", "--from", str(data), "--out", str(blocker / "m.json.gz"), "--quiet"]) == 1
    assert "cannot write the model to" in _flat(capsys.readouterr().err)


def test_triage_train_without_scikit_learn_says_which_extra_before_reading(tmp_path) -> None:
    blocked = tmp_path / "blocked"
    (blocked / "sklearn").mkdir(parents=True)
    (blocked / "sklearn" / "__init__.py").write_text("raise ImportError('sklearn is not installed')\n")
    data = tmp_path / "train.csv"
    write_csv(data, ["text", "label"], [*_ROWS * 10, ("", "complaint")])
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "triage-train",
            "--from",
            str(data),
            "--out",
            str(tmp_path / "m.gz"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(blocked)},
    )
    assert run.returncode == 1
    assert "pip install '.[learn]'" in run.stderr  # not eaten as console markup
    assert "Traceback" not in run.stderr
    assert "text is missing" not in run.stderr  # said before the file is read


def _run_on_terminal(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (the progress bar shows): status, stdout, terminal."""
    import pty
    import threading

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        text=True,
    )
    os.close(slave)
    seen: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the process has exited
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, out, b"".join(seen).decode("utf-8", "replace")


def test_progress_bars_on_a_terminal(tmp_path, sqlite_url) -> None:
    history = tmp_path / "history.csv"
    write_csv(
        history,
        ["external_id", "platform", "text", "author", "created_at"],
        [(f"t{i}", "x", f"@acme parcel {i} never came", f"u{i}", "2026-10-01T10:00:00Z") for i in range(50)],
    )
    code, out, terminal = _run_on_terminal(["import", str(history), "--db", sqlite_url])
    assert (code, "Traceback" in terminal) == (0, False), terminal
    assert "50 new mention(s)" in out
    labels = tmp_path / "labels.csv"
    rows = [("x", f"t{i}", "complaint") for i in range(50)] + [("x", "t1", "grumpy")]
    write_csv(labels, ["platform", "external_id", "label"], rows)
    code, out, terminal = _run_on_terminal(["label", "--file", str(labels), "--db", sqlite_url])
    assert (code, "Traceback" in terminal) == (1, False), terminal
    assert "labelling" in terminal and "51/51" in terminal  # a bad row is a row done too
    assert "50 changed" in out
    train = tmp_path / "train.csv"
    write_csv(train, ["text", "label"], [(f"{t} {i}", lab) for i, (t, lab) in enumerate(_ROWS * 10)])
    code, out, terminal = _run_on_terminal(
        ["triage-train", "--from", str(train), "--out", str(tmp_path / "m.gz")]
    )
    assert (code, "Traceback" in terminal) == (0, False), terminal
    assert "reading" in terminal and "trained on 40 row(s)" in out


def test_a_row_naming_the_wrong_platform_says_where_the_post_is(tmp_path, sqlite_url, stored, capsys) -> None:
    labels = tmp_path / "labels.csv"
    write_csv(
        labels, ["platform", "external_id", "label"], [("twitter", "k1", "spam"), ("x", "nope", "spam")]
    )
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet"]) == 1
    err = _flat(capsys.readouterr().err)
    assert "line 2: no mention twitter/k1 (there is x/k1: is the platform column right?)" in err
    assert "line 3: no mention x/nope" in err and "there is" not in err.split("line 3:")[1]


def test_ids_written_as_whole_floats_are_read(tmp_path, sqlite_url, stored, capsys) -> None:
    # pandas writes an id column with a gap in it as floats ("12.0"); JSON may carry 12.0 too.
    engine, ids = stored
    labels = tmp_path / "labels.csv"
    write_csv(labels, ["id", "label"], [(f"{ids['k1']}.0", "spam"), ("", "spam"), ("3.5", "spam")])
    assert main(["label", "--file", str(labels), "--db", sqlite_url, "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "1 changed" in captured.out
    assert "line 4: id '3.5' is not a mention id" in _flat(captured.err)
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text(json.dumps({"id": float(ids["k2"]), "label": "spam"}) + "\n", encoding="utf-8")
    assert main(["label", "--file", str(jsonl), "--db", sqlite_url, "--quiet"]) == 0
    assert [c[:2] for c in _corrections(engine)] == [(ids["k1"], "spam"), (ids["k2"], "spam")]
