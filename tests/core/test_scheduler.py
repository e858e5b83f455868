"""Scheduler decisions: backoff arithmetic, health transitions, gaps, budgets, leases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.config import parse_config
from monitor.pipeline import Pipeline
from monitor.scheduler import SourceRunner, backoff_delay
from monitor.sources import RateLimited, SourceUnavailable
from monitor.sources.base import AuthFailed
from monitor.sources.hackernews import HackerNewsSource
from monitor.sources.simulated import SimulatedSource
from monitor.store import models as m
from tests.fakes.server import FakeServer, Response

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_backoff_grows_caps_and_honours_platform_hints():
    rng = random.Random(1)
    err = SourceUnavailable("down")
    delays = [backoff_delay(err, n, 60, NOW, rng) for n in (1, 2, 3, 10)]
    assert 48 <= delays[0] <= 72 and 96 <= delays[1] <= 144 and delays[2] > delays[1]
    assert delays[3] <= 900 * 1.2
    reset = RateLimited("429", reset_at=NOW + timedelta(seconds=300))
    assert 300 <= backoff_delay(reset, 1, 60, NOW, rng) <= 302
    assert 30 <= backoff_delay(SourceUnavailable("x", retry_after=30), 1, 60, NOW, rng) <= 31
    assert backoff_delay(AuthFailed("no"), 1, 60, NOW, rng) == 1800


def runner_for(engine, source, clock, owner="a"):
    config = parse_config({"brand": {"names": ["Acme"]}})
    return SourceRunner(
        source.name,
        source,
        Pipeline(engine, config, clock=clock),
        engine,
        clock=clock,
        owner=owner,
        rng=random.Random(0),
    )


def cursor_row(engine, name):
    with engine.connect() as conn:
        return (
            conn.execute(select(m.SourceCursor.__table__).where(m.SourceCursor.__table__.c.source == name))
            .mappings()
            .one()
        )


def test_failure_opens_gap_and_recovery_closes_it(engine):
    clock = Clock(NOW)
    server = FakeServer()
    state = {"down": True}

    def search(req):
        if state["down"]:
            return Response(502, "<html>bad gateway</html>")
        return Response(200, {"hits": [], "nbHits": 0, "page": 0, "nbPages": 0, "hitsPerPage": 50})

    server.route("GET", "/search_by_date", search)
    with server:
        settings = HackerNewsSource.Settings(api_base=server.url, interval=60)
        src = HackerNewsSource("hn", settings, parse_config({"brand": {"names": ["Acme"]}}).brand)
        runner = runner_for(engine, src, clock)
        first = runner.poll()
        assert first.state == "degraded" and "502" in first.error
        clock.now += timedelta(minutes=5)
        assert runner.poll().state == "degraded"
        row = cursor_row(engine, "hn")
        assert row["consecutive_failures"] == 2 and row["state_since"] == NOW
        state["down"] = False
        clock.now += timedelta(minutes=5)
        assert runner.poll().state == "ok"
    row = cursor_row(engine, "hn")
    assert row["state"] == "ok" and row["consecutive_failures"] == 0 and row["last_error"] is None
    with engine.connect() as conn:
        (gap,) = conn.execute(select(m.CoverageGap.__table__)).mappings().all()
    assert gap["start"] == NOW and gap["end"] == NOW + timedelta(minutes=10)


def test_request_budget_pauses_the_source(engine):
    clock = Clock(NOW)
    brand = parse_config({"brand": {"names": ["Acme"]}}).brand
    src = SimulatedSource(
        "sim",
        SimulatedSource.Settings(per_poll=2, request_budget_per_hour=3),
        brand,
        clock=lambda: clock.now.timestamp(),
    )
    runner = runner_for(engine, src, clock)
    for _ in range(3):
        assert runner.poll().state == "ok"
    blocked = runner.poll()
    assert blocked.state == "budget_spent" and "3/hour" in blocked.error
    assert cursor_row(engine, "sim")["budget"] == {"requests_last_hour": 3, "per_hour": 3}
    assert 3500 <= blocked.next_delay <= 3600
    clock.now += timedelta(hours=1, seconds=1)
    assert runner.poll().state == "ok"


def test_only_the_lease_holder_polls(engine):
    clock = Clock(NOW)
    brand = parse_config({"brand": {"names": ["Acme"]}}).brand
    make = lambda: SimulatedSource("sim", SimulatedSource.Settings(per_poll=3, interval=30), brand)  # noqa: E731
    a, b = (
        runner_for(engine, make(), clock, owner="host-a"),
        runner_for(engine, make(), clock, owner="host-b"),
    )
    assert a.poll().result.fetched > 0
    skipped = b.poll()
    assert skipped.skipped_lease and skipped.result.stored == 0
    clock.now += timedelta(seconds=30 + 61)  # host-a died: its lease runs out
    assert b.poll().result.fetched > 0
    assert a.poll().skipped_lease
    b.release()
    assert not a.poll().skipped_lease


def test_sources_command_shows_state_error_and_gap(tmp_path, capsys):
    import json

    from monitor.cli import main
    from monitor.store.db import make_engine, migrate

    db_url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(db_url)
    migrate(engine)
    server = FakeServer()
    server.route("GET", "/search_by_date", lambda req: Response(503, ""))
    with server:
        brand = parse_config({"brand": {"names": ["Acme"]}}).brand
        src = HackerNewsSource(
            "hn", HackerNewsSource.Settings(api_base=server.url, request_budget_per_hour=50), brand
        )
        runner_for(engine, src, Clock(datetime.now(UTC))).poll()
    assert main(["sources", "--db", db_url, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["state"] == "degraded" and "503" in row["last_error"]
    assert row["gaps"][0]["end"] is None and row["budget"] == {"requests_last_hour": 1, "per_hour": 50}
    assert main(["sources", "--db", db_url]) == 0
    table = capsys.readouterr().out
    assert "degraded" in table and "503" in table and "(open)" in table and "1/50 req/h" in table
