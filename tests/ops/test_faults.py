"""Database faults: a PostgreSQL restart mid-poll loses nothing; errors are one line, exit 3.

The restart test runs its own PostgreSQL (initdb/pg_ctl on a spare port, as the
``postgres`` user when run as root) so stopping it disturbs nobody else.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from monitor.cli import main
from monitor.store import models as m
from monitor.store.db import describe_error, make_engine, migrate
from tests.alerts.conftest import Receiver
from tests.core.test_daemon import expected_ids
from tests.ops.conftest import START_TIMEOUT, wait_for, write_config


def _bin(name: str) -> str | None:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}")) or (
        [shutil.which(name)] if shutil.which(name) else []
    )
    return found[-1] if found else None


class PgServer:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            pytest.skip("initdb/pg_ctl not found under /usr/lib/postgresql/*/bin")
        self.dir = Path(tempfile.mkdtemp(prefix="mm-pg-"))
        self.data = self.dir / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.user: str | None = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no postgres user to run initdb as")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.user = "postgres"
        self._run([self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, cmd: list[str]) -> None:
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{cmd}: {out.stdout}{out.stderr}")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run([self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start"])

    def stop(self) -> None:
        self._run([self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    server.start()
    yield server
    server.destroy()


def _state(url: str) -> tuple[list[str], int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ids = conn.execute(select(m.Mention.__table__.c.external_id)).scalars().all()
            cur = conn.execute(select(m.SourceCursor.__table__.c.cursor)).scalar() or {}
            authors = conn.execute(select(func.sum(m.Author.__table__.c.mentions_total))).scalar() or 0
        return ids, int(cur.get("seq", 0)), int(authors)
    finally:
        engine.dispose()


def _fresh(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("drop schema public cascade"))
        conn.execute(text("create schema public"))
    engine.dispose()


@pytest.mark.slow
def test_postgresql_restart_mid_poll_loses_nothing(pg_server, tmp_path, daemons):
    _fresh(pg_server.url)
    with Receiver() as receiver:
        config = write_config(
            tmp_path / "c.yaml",
            pg_server.url,
            sources={"simulated": {"interval": 0.2, "per_poll": 4}},
            alerts={"routes": [], "operators": [receiver.hook("/ops")]},
            service={"db_alert_after": 2, "db_fail_after": 0},
        )
        d = daemons(config)
        wait_for(lambda: "mention-monitor running" in d.log(), START_TIMEOUT, "the daemon running")
        wait_for(lambda: _state(pg_server.url)[1] >= 20, 60, "polling")
        pg_server.stop()  # polls are back to back: this lands mid-poll
        wait_for(lambda: "database unreachable" in d.log(), 60, "the outage noticed")
        wait_for(lambda: receiver.posts("/ops"), 60, "the operator alert")
        assert "database unreachable" in receiver.posts("/ops")[0]["title"]
        pg_server.start()
        wait_for(lambda: "database reachable again" in d.log(), 90, f"recovery: {d.log()[-2000:]}")
        seq = _state(pg_server.url)[1]
        wait_for(lambda: _state(pg_server.url)[1] >= seq + 20, 60, "polling again")
        d.signal(signal.SIGTERM)
        assert d.wait(90) == 0, d.log()
    ids, seq, authors = _state(pg_server.url)
    assert sorted(ids) == sorted(expected_ids(seq)), "a page was lost or stored twice across the restart"
    assert authors == len(ids) == len(set(ids))
    log = d.log()
    assert log.count("monitor.liveness: database unreachable") == 1, (
        "the outage is logged once, not per retry"
    )
    assert f"127.0.0.1:{pg_server.port}" in log
    # No traceback from polling, alerting or the daemon (the responder's loop is its own engineer's).
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            owner = next(p for p in reversed(lines[:i]) if p[:2].isdigit())
            assert "monitor.responder" in owner, owner


@pytest.mark.slow
def test_a_database_gone_longer_than_db_fail_after_stops_the_daemon_loudly(pg_server, tmp_path, daemons):
    _fresh(pg_server.url)
    config = write_config(
        tmp_path / "c.yaml",
        pg_server.url,
        sources={"simulated": {"interval": 0.5, "per_poll": 2}},
        service={"db_alert_after": 0, "db_fail_after": 3},
    )
    d = daemons(config)
    wait_for(lambda: "mention-monitor running" in d.log(), START_TIMEOUT, "the daemon running")
    wait_for(lambda: _state(pg_server.url)[1] > 0, 60, "polling")
    pg_server.stop()
    try:
        assert d.wait(90) == 1  # systemd's Restart=on-failure takes it from here
    finally:
        pg_server.start()
    assert "CRITICAL" in d.log() and "giving up" in d.log()
    assert f"postgres@127.0.0.1:{pg_server.port}" in d.log()


def test_a_file_that_is_not_a_database_is_one_line_and_exit_3(tmp_path, capsys):
    bad = tmp_path / "f.db"
    bad.write_text("x\n")
    assert main(["mentions", "--db", f"sqlite:///{bad}"]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert str(bad) in err and "not a SQLite database" in err and "Traceback" not in err
    assert main(["sources", "--db", "postgresql+psycopg://mm:hunter2secret@127.0.0.1:1/x"]) == 3
    err = capsys.readouterr().err
    assert "mm:***@127.0.0.1:1" in err and "hunter2secret" not in err and "start PostgreSQL" in err


def test_sqlite_read_only_fails_with_the_path_and_loses_nothing(tmp_path):
    """The database file is immutable (chattr +i: read-only even for root, like a read-only mount)."""
    path = tmp_path / "m.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            m.Mention.__table__.insert().values(
                platform="x",
                external_id="1",
                source="x",
                author_handle="a",
                text="t",
                created_at=func.now(),
                fetched_at=func.now(),
                raw={},
                reasons=[],
                status="new",
            )
        )
    engine.dispose()
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root on ext4/xfs/btrfs)")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "monitor", "ack", "1", "--db", f"sqlite:///{path}"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    assert out.returncode == 3, out.stderr
    err = out.stderr.strip()
    assert len(err.splitlines()) == 1 and str(path) in err, err
    assert "read-only" in err and "Traceback" not in err, err
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:  # nothing already stored was lost
        assert conn.execute(select(m.Mention.__table__.c.status)).scalar() == "new"
    engine.dispose()


def test_sqlite_disk_full_is_described_with_the_path(tmp_path):
    path = tmp_path / "full.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)

    @event.listens_for(engine, "connect")
    def _tiny(dbapi_conn, _record):  # a file system with no room left, as SQLite reports it
        dbapi_conn.execute("PRAGMA max_page_count = 1")

    engine.dispose()
    with pytest.raises(DBAPIError) as info, engine.begin() as conn:
        for i in range(2000):
            conn.execute(
                m.Event.__table__.insert().values(action="x" * 30, actor=str(i), at=func.now(), detail={})
            )
    line = describe_error(info.value, engine.url)
    assert str(path) in line and "disk holding the database is full" in line
    engine.dispose()
