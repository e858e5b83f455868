"""The commands a new user runs first tell the truth: exit codes, the file read, what changed.

Each test reproduces a defect of issue 15 on real SQLite files, real Apprise and subprocesses
where the console width or the environment matters.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from monitor import workflow
from monitor.cli import main
from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import inbox
from monitor.store import models as m
from monitor.store.db import make_engine, migrate

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


def test_confirming_the_triage_label_is_recorded_once_without_an_audit_event(engine, stored):
    a = stored[1]
    (row,) = [r for r in rows(engine, m.Mention) if r["id"] == a]
    first = workflow.correct_label(engine, a, row["label"], actor="ana", now=T1)
    again = workflow.correct_label(engine, a, row["label"], actor="ben", now=T2)
    assert "confirmed" in first.detail and again.result == "unchanged"
    assert rows(engine, m.Event) == []
    corrections = rows(engine, m.LabelCorrection)
    assert [(c["predicted"], c["corrected"], c["actor"]) for c in corrections] == [
        (row["label"], row["label"], "ana")
    ]


# ----------------------------------------------------------------------------- item 7


def test_poll_once_exits_1_when_an_alert_delivery_failed(tmp_path, capsys):
    dead = free_port()  # nothing listens here: Apprise's POST is refused, a definite failure
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "brand": {"names": ["Acme"], "handles": {"simulated": ["acme"]}},
                "sources": {"simulated": {"interval": 1, "per_poll": 40, "seed": 16}},
                "alerts": {
                    "routes": [
                        {
                            "name": "urgent",
                            "match": {"priority": "P1"},
                            "notify": [f"json://127.0.0.1:{dead}/hook"],
                        }
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


# ----------------------------------------------------------------------------- item 3


@pytest.mark.parametrize("command", [["mentions"], ["sources"], ["alerts"], ["show", "1"]])
def test_read_command_on_a_mistyped_path_creates_nothing(tmp_path, capsys, command):
    url = f"sqlite:///{tmp_path / 'nodir' / 'sub' / 'x.db'}"
    assert main([*command, "--db", url]) == 3
    assert f"no database at {tmp_path / 'nodir' / 'sub' / 'x.db'}" in capsys.readouterr().err
    assert not (tmp_path / "nodir").exists()


def test_writing_command_creates_the_database(tmp_path):
    data = tmp_path / "history.csv"
    data.write_text("text,author,created_at\nAcme is great,ann,2026-11-20T09:00:00Z\n")
    db = tmp_path / "new" / "m.db"
    assert main(["import", str(data), "--db", f"sqlite:///{db}", "--quiet"]) == 0
    assert db.exists()


def clean_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MENTION_MONITOR_DB", "STATE_DIRECTORY", "XDG_DATA_HOME", "COLUMNS", "LINES")
    }
    env["HOME"] = str(home)
    return env


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_mentions_without_db_reads_the_demo_file_and_names_it(tmp_path):
    env = clean_env(tmp_path)
    nothing = run_cli(["mentions"], env)
    assert nothing.returncode == 3 and "no database at" in nothing.stderr and "demo" in nothing.stderr
    assert not any(tmp_path.rglob("*.db"))
    demo = run_cli(["demo", "--once"], env)
    assert demo.returncode == 0, demo.stderr
    (demo_db,) = tmp_path.rglob("demo.db")
    listed = run_cli(["mentions", "--format", "json", "--limit", "500"], env)
    assert listed.returncode == 0, listed.stderr
    assert str(demo_db) in listed.stderr
    assert len(listed.stdout.splitlines()) >= 30
    assert "mention-monitor mentions --label complaint" in demo.stdout  # the hint works as printed


# ----------------------------------------------------------------------------- item 8 (CLI)


@pytest.mark.parametrize("limit", ["0", "-5", "ten"])
def test_limit_must_be_positive(sqlite_url, limit, capsys):
    with pytest.raises(SystemExit) as info:
        main(["mentions", "--db", sqlite_url, "--limit", limit])
    assert info.value.code == 2
    assert "--limit" in capsys.readouterr().err


# ----------------------------------------------------------------------------- item 10


LONG = (
    "Acme your SmartKettle stopped heating after the firmware update and support has not answered "
    "my three e-mails in a week, this is unacceptable"
)


@pytest.fixture
def listed_db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    migrate(engine)
    p = Pipeline(engine, parse_config({"brand": {"names": ["Acme"]}}), clock=lambda: T0)
    p.ingest(
        [
            Mention("hackernews", "1", LONG, T0, "a_rather_long_handle_name", author_followers=48000),
            Mention("mastodon", "2", "Acme thanks, all good 🙌", T0, "bo@mastodon.social"),
        ],
        source="seed",
    )
    engine.dispose()
    return url


def test_mentions_table_fits_80_columns_with_text_last_and_cut(listed_db, tmp_path):
    from rich.cells import cell_len

    env = {**clean_env(tmp_path), "COLUMNS": "80"}
    proc = run_cli(["mentions", "--db", listed_db], env)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert all(cell_len(line) <= 80 for line in lines), proc.stdout
    header, rows = lines[0], [line for line in lines if line.lstrip()[:1].isdigit()]
    assert len(rows) == 2  # one line per mention: nothing wraps
    assert header.split()[-1] == "text"
    assert "hackernews" in proc.stdout and "complaint" in proc.stdout  # platform and label whole
    long_row = next(r for r in rows if "hackernews" in r)
    assert long_row.rstrip().endswith("…") and "Acme your SmartKettle" in long_row
    # Wider consoles show more columns, never a wrapped one.
    wide = run_cli(["mentions", "--db", listed_db], {**env, "COLUMNS": "160"})
    assert {"status", "sev"} <= set(wide.stdout.splitlines()[0].split()) and "firmware update" in wide.stdout
    assert "firmware update" not in proc.stdout


def test_show_prints_the_whole_mention_reasons_alerts_and_history(listed_db, capsys):
    engine = make_engine(listed_db)
    workflow.acknowledge(engine, [1], actor="ana", now=T1)
    workflow.correct_label(engine, 1, "question", actor="ana", now=T2)
    workflow.claim(engine, [1], actor="ben", now=T2)
    engine.dispose()
    assert main(["show", "1", "--db", listed_db]) == 0
    printed = capsys.readouterr().out
    assert "claimed:  by ben" in printed
    engine = make_engine(listed_db)
    workflow.correct_label(engine, 2, "praise", actor="cy", now=T2)  # agrees with triage
    engine.dispose()
    assert main(["show", "2", "--db", listed_db]) == 0
    assert "cy: confirmed label praise" in capsys.readouterr().out
    assert LONG in printed.replace("\n  ", " ")
    assert "@a_rather_long_handle_name" in printed and "48,000 followers" in printed
    assert "why (triage reasons):" in printed and "alerts:" in printed
    assert "ana: acknowledge new → acknowledged" in printed
    assert "ana: relabel complaint → question" in printed
    assert main(["show", "99", "--db", listed_db]) == 1
    assert "no mention with id 99" in capsys.readouterr().err


def test_show_lists_alert_deliveries(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = run_cli(["demo", "--once", "--db", url], clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    engine = make_engine(url)
    with engine.connect() as conn:
        alerted = conn.execute(select(m.AlertOutbox.__table__.c.mention_id)).scalars().first()
    engine.dispose()
    assert main(["show", str(alerted), "--db", url]) == 0
    printed = capsys.readouterr().out
    assert "route urgent) → console://: delivered 20" in printed and "after 1 attempt(s)" in printed
    # The repeat poster's second P1 did not alert: show says which alert it was folded into.
    engine = make_engine(url)
    t, a = m.Mention.__table__, m.AlertOutbox.__table__
    with engine.connect() as conn:
        folded = (
            conn.execute(
                select(t.c.id).where(
                    t.c.priority == "P1",
                    t.c.id.not_in(select(a.c.mention_id).where(a.c.mention_id.is_not(None))),
                )
            )
            .scalars()
            .first()
        )
    engine.dispose()
    assert folded is not None
    assert main(["show", str(folded), "--db", url]) == 0
    assert f"already alerted in the same batch (alert #1 for mention #{alerted})" in capsys.readouterr().out
    # The dashboard's mention page reads the same answer (it links to the alerted mention).
    engine = make_engine(url)
    story = inbox.mention_story(engine, folded, author_window_minutes=30)
    alerted_story = inbox.mention_story(engine, alerted, author_window_minutes=30)
    engine.dispose()
    assert (story["folded_into"]["alert_id"], story["folded_into"]["mention_id"]) == (1, alerted)
    assert alerted_story["alerts"] and alerted_story["folded_into"] is None


# ----------------------------------------------------------------------------- item 11


def test_demo_says_why_p1s_did_not_alert_and_alerts_do_not_read_as_system_failures(tmp_path):
    import re

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = run_cli(["demo", "--once", "--db", url], {**clean_env(tmp_path), "COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "[FAILURE]" not in out
    assert re.search(r"P1 (severe |moderate |mild )?complaint on simulated", out), out
    found = re.search(r"(\d+) P1 mention\(s\): (\d+) alerted", out)
    assert found, out
    p1, alerted = int(found.group(1)), int(found.group(2))
    assert p1 > alerted  # this seed has a repeat poster: the demo must say why
    assert "author already alerted within 30 min" in out


def test_urgent_mention_alerts_are_warnings_and_only_monitor_problems_are_failures():
    """Through real Apprise to a JSON web hook on 127.0.0.1: the type a chat service colours by."""
    from monitor.alerts.compose import mention_message, operator_message
    from monitor.alerts.delivery import send
    from monitor.alerts.routing import Destination
    from monitor.alerts.settings import SLASettings
    from tests.alerts.conftest import Receiver

    mention = m.Mention(
        id=1,
        platform="x",
        external_id="1",
        text="Acme broke",
        created_at=T0,
        author_handle="a",
        priority="P1",
        label="complaint",
        urgency=90,
    )
    with Receiver() as receiver:
        hook = Destination("urgent/0:x", "hook", url=receiver.hook())
        for message in (
            mention_message(mention, now=T1, sla=SLASettings()),
            operator_message("source x failing", "HTTP 500"),
        ):
            assert send(hook, message, timeout=10).status == "delivered"
        alert, operator = receiver.posts()
    assert alert["type"] == "warning" and alert["title"].startswith("P1 complaint on x")
    assert operator["type"] == "failure" and operator["title"].startswith("mention-monitor: ")
