"""The daemon as a real process: SIGTERM, systemd notify, kill -9 mid-run, restarts, failing sources."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from monitor.brand import BrandSettings
from monitor.cli import main
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.sources.simulated import SimulatedSource
from monitor.store import models as m
from monitor.store.db import make_engine, migrate
from tests.fakes.server import FakeServer, Response

BRAND = {"names": ["Acme"], "handles": {"simulated": ["acme"]}}


def write_config(tmp_path, db_url: str, **sources) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "brand": BRAND,
                "sources": sources,
                "alerts": {
                    "routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": ["console://"]}]
                },
                "storage": {"url": db_url},
                "logging": {"level": "INFO"},
            }
        )
    )
    return str(path)


def expected_ids(total: int, seed: int = 7) -> set[str]:
    """What the simulated platform serves for sequence 0..total-1, minus reposts and the brand's own posts."""
    src = SimulatedSource("s", SimulatedSource.Settings(seed=seed), BrandSettings(**BRAND))
    now = datetime.now(UTC)
    out = set()
    for n in range(total):
        item = src.make(n, now=now)
        if item is not None and item.author_handle != "acme":
            out.add(item.external_id)
    return out


def stored_state(db_url: str):
    engine = make_engine(db_url)
    migrate(engine)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(m.Mention.__table__.c.external_id))]
        cursor = conn.execute(select(m.SourceCursor.__table__.c.cursor)).scalar()
        authors = conn.execute(select(func.sum(m.Author.__table__.c.mentions_total))).scalar() or 0
        alerts = conn.execute(select(m.AlertOutbox.__table__.c.key)).scalars().all()
    engine.dispose()
    return ids, cursor or {}, authors, alerts


def spawn(config: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "-c", config, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_sigterm_commits_in_flight_work_and_exits_zero(tmp_path, db_url):
    config = write_config(tmp_path, db_url, simulated={"interval": 0.05, "per_poll": 40})
    notify_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    sock.settimeout(20)
    proc = spawn(config, env={"NOTIFY_SOCKET": notify_path})
    try:
        assert sock.recv(4096).decode().startswith("READY=1")
        wait_for(lambda: len(stored_state(db_url)[0]) >= 80)
        proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096).decode().startswith("STOPPING=1")
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        sock.close()
    assert proc.returncode == 0, err
    assert "received SIGTERM" in err and "mention-monitor stopped" in err
    ids, cursor, authors, _ = stored_state(db_url)
    # Everything before the committed cursor is stored, nothing after it, nothing twice.
    assert set(ids) == expected_ids(cursor["seq"]) and len(ids) == len(set(ids)) == authors


def test_kill_9_mid_run_loses_nothing_and_doubles_nothing(tmp_path, db_url):
    # The kills run at most 40 mentions per 0.05 s poll (800/s), so four short runs cannot reach the
    # end however fast triage and the store get; the finish uses bigger pages on the same cursor.
    total = 4000
    slow = {"interval": 0.05, "per_poll": 40, "total": total, "max_pages_per_poll": 1}
    config = write_config(tmp_path, db_url, simulated=slow)
    rng = random.Random(11)
    for _ in range(4):
        before = len(stored_state(db_url)[0])
        proc = spawn(config)
        try:
            wait_for(lambda b=before: len(stored_state(db_url)[0]) > b)  # running and committing
            time.sleep(rng.uniform(0.0, 0.4))  # then die at an arbitrary point of fetch/triage/commit
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    ids, cursor, authors, alerts = stored_state(db_url)
    assert 0 < cursor.get("seq", 0) < total, "the kills should land mid-run"
    assert set(ids) == expected_ids(cursor["seq"]), "a committed cursor must match exactly what was stored"
    # Finish the job after the crashes.
    config = write_config(tmp_path, db_url, simulated={**slow, "per_poll": 1000, "max_pages_per_poll": 2})
    for _ in range(10):
        assert main(["poll-once", "-c", config]) == 0
        if stored_state(db_url)[1].get("seq") == total:
            break
    ids, cursor, authors, alerts = stored_state(db_url)
    assert set(ids) == expected_ids(total)
    assert len(ids) == len(set(ids)) == authors, "no mention or author count doubled"
    assert len(alerts) == len(set(alerts))


def test_dedupe_across_restarts_even_when_the_cursor_is_lost(tmp_path, sqlite_url, capsys):
    config = write_config(tmp_path, sqlite_url, simulated={"interval": 1, "per_poll": 60, "total": 60})
    assert main(["poll-once", "-c", config]) == 0
    first = set(stored_state(sqlite_url)[0])
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:  # a lost cursor (restored backup, clock skew): the same posts come again
        conn.execute(m.SourceCursor.__table__.delete())
    engine.dispose()
    capsys.readouterr()
    assert main(["poll-once", "-c", config]) == 0
    assert f"0 new, {len(first)} already stored" in capsys.readouterr().out
    assert set(stored_state(sqlite_url)[0]) == first


@pytest.fixture
def broken_platform():
    """A Hacker-News-shaped server that answers 503 to everything, and one that never answers in time."""
    down, slow = FakeServer(), FakeServer()
    down.route_prefix("GET", "/", lambda req: Response(503, ""))
    slow.route_prefix("GET", "/", lambda req: Response(200, {"hits": []}, delay=3))
    with down, slow:
        yield down.url, slow.url


def test_failing_sources_do_not_stop_the_others(tmp_path, sqlite_url, broken_platform):
    down, slow = broken_platform
    config = load_config(
        write_config(
            tmp_path,
            sqlite_url,
            simulated={"interval": 0.1, "per_poll": 5},
            hn_down={"platform": "hackernews", "interval": 10, "api_base": down},
            hn_slow={"platform": "hackernews", "interval": 10, "api_base": slow, "timeout": 0.5},
        )
    )
    daemon = Daemon(config)
    assert daemon.run_forever(install_signals=False, duration=3)
    with make_engine(sqlite_url).connect() as conn:
        rows = {r["source"]: r for r in conn.execute(select(m.SourceCursor.__table__)).mappings()}
        gaps = {r["source"]: r for r in conn.execute(select(m.CoverageGap.__table__)).mappings()}
    assert rows["simulated"]["state"] == "ok" and rows["simulated"]["requests_total"] >= 10
    assert rows["hn_down"]["state"] == "degraded" and "503" in rows["hn_down"]["last_error"]
    assert rows["hn_slow"]["state"] == "degraded" and "timed out" in rows["hn_slow"]["last_error"]
    assert gaps["hn_down"]["end"] is None and gaps["hn_slow"]["end"] is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str) -> int | None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except (urllib.error.URLError, OSError):
        return None


def test_daemon_serves_the_web_endpoint_and_survives_a_taken_port(tmp_path, sqlite_url, caplog):
    import threading

    port = free_port()
    path = write_config(tmp_path, sqlite_url, simulated={"interval": 1, "per_poll": 2})
    raw = yaml.safe_load(Path(path).read_text())
    raw["dashboard"] = {"enabled": True, "listen": f"127.0.0.1:{port}", "secret_key": "s" * 32}
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(raw))
    daemon = Daemon(load_config(tmp_path / "web.yaml"))
    runner = threading.Thread(target=daemon.run_forever, kwargs={"install_signals": False, "duration": 30})
    runner.start()
    try:
        wait_for(lambda: http_status(f"http://127.0.0.1:{port}/healthz") == 200)
        # A second daemon on the same port: the endpoint fails with a clear log line, monitoring goes on.
        second = Daemon(load_config(tmp_path / "web.yaml"))
        assert second.run_forever(install_signals=False, duration=2)
        assert "could not start" in caplog.text and "dashboard.listen" in caplog.text
    finally:
        daemon.request_stop()
        runner.join(30)
    assert not runner.is_alive()
    assert http_status(f"http://127.0.0.1:{port}/healthz") is None
