"""The daemon as a service: SIGHUP reloads (good and bad config), the watchdog, /healthz and /metrics.

Daemons run as real subprocesses talking to a real ``NOTIFY_SOCKET``.
"""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from monitor.config import parse_config
from monitor.store import models as m
from monitor.store.db import make_engine, migrate
from tests.ops.conftest import START_TIMEOUT, wait_for, write_config


def _per_source(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.dialect.has_table(conn, "mention"):
                return {}
            t = m.Mention.__table__
            return dict(conn.execute(select(t.c.source, func.count()).group_by(t.c.source)).all())
    finally:
        engine.dispose()


def _seq(url: str, source: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            t = m.SourceCursor.__table__
            cur = conn.execute(select(t.c.cursor).where(t.c.source == source)).scalar()
            return int((cur or {}).get("seq", 0))
    finally:
        engine.dispose()


def test_sighup_applies_a_good_config_and_rejects_a_bad_one(tmp_path, sqlite_url, daemons, notify_socket):
    path = tmp_path / "c.yaml"
    write_config(path, sqlite_url, sources={"sim": {"platform": "simulated", "interval": 0.3, "per_poll": 2}})
    sock = notify_socket("n")
    d = daemons(str(path), env={"NOTIFY_SOCKET": sock.path})
    wait_for(lambda: sock.poll() and sock.seen("READY=1"), START_TIMEOUT, "READY=1")
    wait_for(lambda: _per_source(sqlite_url).get("sim", 0) >= 4, 60, "sim polling")

    # A good new config: a second source, new settings for the first, a different route and triage.
    write_config(
        path,
        sqlite_url,
        sources={
            "sim": {"platform": "simulated", "interval": 0.3, "per_poll": 4},
            "sim2": {"platform": "simulated", "interval": 0.3, "per_poll": 2, "seed": 99},
        },
        alerts={"routes": [{"name": "everything", "notify": ["console://"]}]},
        triage={"negative_polarity": -0.2},
    )
    seq_before = _seq(sqlite_url, "sim")
    d.signal(signal.SIGHUP)
    wait_for(lambda: "config reloaded" in d.log(), 60, "the reload log line")
    wait_for(lambda: _per_source(sqlite_url).get("sim2", 0) >= 2, 60, "the new source polling")
    wait_for(lambda: _seq(sqlite_url, "sim") > seq_before, 60, "sim polling on")
    # The cursor survived: sim continued from where it was, nothing fetched twice or skipped.
    counts = _per_source(sqlite_url)
    assert counts["sim"] <= _seq(sqlite_url, "sim")
    assert "routes everything" in d.log()

    # A bad config: rejected with a line naming the key, the old config keeps running.
    path.write_text(path.read_text().replace("interval: 0.3", "interval: -5", 1))
    d.signal(signal.SIGHUP)
    wait_for(lambda: "config reload rejected" in d.log(), 60, "the rejection log line")
    rejected = next(line for line in d.log().splitlines() if "config reload rejected" in line)
    assert "sources.sim" in rejected and "interval" in rejected, rejected
    seq_after_bad = _seq(sqlite_url, "sim")
    wait_for(lambda: _seq(sqlite_url, "sim") > seq_after_bad, 60, "still polling after the rejection")
    assert d.proc.poll() is None

    started = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.wait(90) == 0, d.log()
    assert time.monotonic() - started < 90  # within the unit's TimeoutStopSec
    sock.poll()
    assert sock.seen("STOPPING=1")
    assert any("config reloaded" in msg for _, msg in sock.messages)


def test_the_watchdog_is_fed_only_while_every_loop_is_alive(tmp_path, sqlite_url, daemons, notify_socket):
    path = tmp_path / "c.yaml"
    # "slow" hangs in its fetch for a minute (a platform that accepted the connection and went silent).
    write_config(
        path,
        sqlite_url,
        sources={
            "ok": {"platform": "simulated", "interval": 0.3, "per_poll": 1},
            "slow": {"platform": "simulated", "interval": 0.3, "per_poll": 1, "seed": 3, "latency": 60},
        },
        service={"stall_after": 3},
    )
    sock = notify_socket("n")
    d = daemons(str(path), env={"NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "1000000"})
    wait_for(lambda: sock.poll() and sock.seen("READY=1"), START_TIMEOUT, "READY=1")
    wait_for(lambda: sock.poll() and sock.seen("WATCHDOG=1"), 30, "a first WATCHDOG=1 while all loops run")
    wait_for(lambda: sock.poll() and sock.seen("STATUS=hung"), 60, "STATUS=hung")
    hung_at = sock.seen("STATUS=hung")[0]
    # From then on, no more pings: 4 s is 8 ping intervals (WATCHDOG_USEC/2).
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        sock.poll()
    assert not [t for t in sock.seen("WATCHDOG=1") if t > hung_at + 0.2], "still feeding the watchdog"
    assert "hung: source:slow" in d.log()
    assert _per_source(sqlite_url).get("ok", 0) > 0  # the other source kept working meanwhile


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def test_healthz_and_metrics_without_the_dashboard(tmp_path, sqlite_url, daemons):
    port = _free_port()
    path = tmp_path / "c.yaml"
    write_config(
        path,
        sqlite_url,
        sources={"sim": {"platform": "simulated", "interval": 0.3, "per_poll": 3}},
        alerts={"routes": [{"name": "urgent", "match": {"priority": ["P1"]}, "notify": ["console://"]}]},
        service={"health_listen": f"127.0.0.1:{port}"},
    )
    d = daemons(str(path))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _get(f"{base}/healthz")[0] == 200, START_TIMEOUT, f"/healthz answering: {d.log()}")
    wait_for(lambda: _per_source(sqlite_url).get("sim", 0) >= 6, 60, "mentions")
    status, body = _get(f"{base}/healthz")
    report = json.loads(body)
    assert status == 200 and report["healthy"] and report["database"]["reachable"]
    assert report["sources"]["sim"]["state"] == "ok" and report["sources"]["sim"]["last_success_at"]
    assert report["sources"]["sim"]["lease_holder"].endswith(f"/{d.pid}")
    assert "backlog" in report["outbox"] and report["loops"]["stalled"] == []
    status, text = _get(f"{base}/metrics")
    assert status == 200
    for needle in (
        'mention_monitor_mentions_ingested_total{label="',
        'mention_monitor_source_lease{holder="',
        "mention_monitor_outbox_backlog ",
        'mention_monitor_alert_deliveries{status="delivered"}',
        "mention_monitor_alert_latency_seconds_bucket",
        "mention_monitor_reply_latency_seconds_bucket",
        'mention_monitor_polls_total{source="sim"}',
        "mention_monitor_database_up 1.0",
    ):
        assert needle in text, needle
    d.signal(signal.SIGTERM)
    assert d.wait(90) == 0


def test_healthz_is_503_when_the_database_is_gone_or_alerts_wait_too_long(sqlite_url):
    from fastapi.testclient import TestClient

    from monitor.web import health

    config = parse_config({"brand": {"names": ["Acme"]}, "service": {"backlog_unhealthy_after": 60}})
    gone = make_engine("postgresql+psycopg://nobody:pw@127.0.0.1:1/none")
    with TestClient(health.create_app(gone, config)) as client:
        resp = client.get("/healthz")
        assert resp.status_code == 503
        assert resp.json()["database"]["reachable"] is False
        assert "nobody:***@" in resp.json()["database"]["error"]
        assert "mention_monitor_database_up 0.0" in client.get("/metrics").text
    engine = make_engine(sqlite_url)
    migrate(engine)
    old = datetime.now(UTC) - timedelta(minutes=5)
    with engine.begin() as conn:
        alert_id = conn.execute(
            m.AlertOutbox.__table__.insert().values(key="k", kind="mention", route="r", created_at=old)
        ).inserted_primary_key[0]
        conn.execute(
            m.AlertDelivery.__table__.insert().values(
                alert_id=alert_id, destination="r/0", status="pending", attempts=0, log=[]
            )
        )
    with TestClient(health.create_app(engine, config)) as client:
        resp = client.get("/healthz")
        assert resp.status_code == 503, resp.json()
        assert resp.json()["outbox"]["backlog"] == 1
        assert any("waited" in p for p in resp.json()["problems"])


def test_the_dashboard_app_serves_the_same_healthz_and_metrics(sqlite_url):
    from fastapi.testclient import TestClient

    from monitor.web.app import create_app

    engine = make_engine(sqlite_url)
    migrate(engine)
    config = parse_config(
        {"brand": {"names": ["Acme"]}, "dashboard": {"enabled": True, "secret_key": "k" * 32}}
    )
    with TestClient(create_app(config, engine)) as client:
        resp = client.get("/healthz")
        assert resp.status_code == 200 and resp.json()["database"]["reachable"] is True
        assert "mention_monitor_outbox_backlog" in client.get("/metrics").text
    engine.dispose()


def test_a_stopped_daemon_no_longer_speaks_for_the_process_health(sqlite_url):
    """A daemon that ran in this process and stopped leaves no dead loops behind in /healthz."""
    from fastapi.testclient import TestClient

    from monitor import liveness
    from monitor.daemon import Daemon
    from monitor.web.app import create_app

    config = parse_config(
        {
            "brand": {"names": ["Acme"]},
            "storage": {"url": sqlite_url},
            "dashboard": {"enabled": False, "secret_key": "k" * 32},
        }
    )
    daemon = Daemon(config)
    daemon.start()
    assert liveness.PROCESS is not None and liveness.PROCESS.liveness is daemon.liveness
    assert daemon.shutdown()
    assert liveness.PROCESS is None
    engine = make_engine(sqlite_url)
    config = parse_config(
        {"brand": {"names": ["Acme"]}, "dashboard": {"enabled": True, "secret_key": "k" * 32}}
    )
    with TestClient(create_app(config, engine)) as client:
        resp = client.get("/healthz")
        assert resp.status_code == 200, resp.json()
    engine.dispose()
