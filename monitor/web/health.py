"""``/healthz`` and ``/metrics``: one FastAPI router, served by the dashboard or on its own.

``/healthz`` answers JSON with each source's state, last success and lease
holder, the alert outbox backlog and the age of the oldest undelivered alert,
whether the database answers and whether the daemon's loops are alive; it is
503 when the database is unreachable, a loop is hung, or an alert has waited
longer than ``service.backlog_unhealthy_after``. ``/metrics`` is the Prometheus
text format: this process's counters (:mod:`monitor.metrics`) plus gauges read
from the database at scrape time, so every instance reports the same backlog.

With the dashboard off, ``service.health_listen`` serves just this router
(:func:`serve`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor import liveness, metrics
from monitor.config import Config
from monitor.liveness import ProcessState
from monitor.logs import redact
from monitor.store import models as m

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
UNDELIVERED = ("pending", "failed", "sending")


def _utcnow() -> datetime:
    return datetime.now(UTC)


router = APIRouter()


def _deps(request: Request) -> tuple[Engine, Config, Clock]:
    state = request.app.state
    own = getattr(state, "health", None)
    if own is not None:
        return own
    ctx = state.ctx  # the dashboard's WebContext
    return ctx.engine, ctx.config, ctx.clock


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat(timespec="seconds") if ts else None


def health_report(
    engine: Engine, config: Config, now: datetime, process: ProcessState | None
) -> dict[str, Any]:
    """The ``/healthz`` body; ``healthy`` decides 200 or 503."""
    report: dict[str, Any] = {"time": _iso(now)}
    problems: list[str] = []
    sources: dict[str, dict[str, Any]] = {
        name: {"state": "never polled", "last_success_at": None} for name in config.enabled_sources()
    }
    try:
        t = m.SourceCursor.__table__
        d = m.AlertDelivery.__table__
        a = m.AlertOutbox.__table__
        with engine.connect() as conn:
            for row in conn.execute(select(t)).mappings():
                lease_live = bool(row["lease_owner"] and row["lease_until"] and row["lease_until"] > now)
                sources[row["source"]] = {
                    "state": row["state"],
                    "since": _iso(row["state_since"]),
                    "last_success_at": _iso(row["last_success_at"]),
                    "last_error": redact(row["last_error"]) if row["last_error"] else None,
                    "lease_holder": row["lease_owner"] if lease_live else None,
                }
            backlog, oldest = conn.execute(
                select(func.count(d.c.id), func.min(a.c.created_at))
                .select_from(d.join(a, a.c.id == d.c.alert_id))
                .where(d.c.status.in_(UNDELIVERED))
            ).one()
        report["database"] = {"reachable": True}
    except SQLAlchemyError as exc:
        from monitor.store.db import describe_error

        report["database"] = {"reachable": False, "error": describe_error(exc, engine.url)}
        problems.append("database unreachable")
        backlog, oldest = None, None
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    report["outbox"] = {"backlog": backlog, "oldest_undelivered_age_seconds": round(age, 1)}
    if oldest is not None and age > config.service.backlog_unhealthy_after:
        problems.append(f"an alert has waited {age:.0f}s undelivered")
    report["sources"] = sources
    if process is not None:
        if process.liveness is not None:
            stalled = process.liveness.stalled()
            report["loops"] = {"stalled": stalled}
            if stalled:
                problems.append("hung: " + ", ".join(stalled))
        if process.outage is not None and process.outage.duration():
            report["database"]["outage_seconds"] = round(process.outage.duration(), 1)
    failing = [n for n, s in sources.items() if s["state"] not in ("ok", "never polled")]
    report["healthy"] = not problems
    report["status"] = "unhealthy" if problems else ("degraded" if failing else "ok")
    report["problems"] = problems + [f"source {n} is {sources[n]['state']}" for n in failing]
    return report


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    engine, config, clock = _deps(request)
    report = health_report(engine, config, clock(), liveness.PROCESS)
    return JSONResponse(
        report, status_code=200 if report["healthy"] else 503, headers={"Cache-Control": "no-store"}
    )


class _DatabaseCollector:
    """Gauges read from the database at scrape time (the same for every instance)."""

    def __init__(self, engine: Engine, config: Config, now: datetime) -> None:
        self.engine, self.config, self.now = engine, config, now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("mention_monitor_database_up", "1 when the database answers")
        try:
            families = list(self._read())
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[GaugeMetricFamily]:
        t = m.SourceCursor.__table__
        d = m.AlertDelivery.__table__
        a = m.AlertOutbox.__table__
        lease = GaugeMetricFamily(
            "mention_monitor_source_lease",
            "1 for the instance holding each source's lease",
            labels=["source", "holder"],
        )
        state = GaugeMetricFamily(
            "mention_monitor_source_state", "1 for each source's current state", labels=["source", "state"]
        )
        last_ok = GaugeMetricFamily(
            "mention_monitor_source_last_success_timestamp_seconds", "Last successful poll", labels=["source"]
        )
        x_read = GaugeMetricFamily(
            "mention_monitor_x_posts_read_today", "X posts read (billed) this UTC day", labels=["source"]
        )
        x_budget = GaugeMetricFamily(
            "mention_monitor_x_read_budget", "X daily_read_budget from the config", labels=["source"]
        )
        by_status = GaugeMetricFamily(
            "mention_monitor_alert_deliveries",
            "Alert delivery rows by status (the ledger)",
            labels=["status"],
        )
        backlog = GaugeMetricFamily("mention_monitor_outbox_backlog", "Alert deliveries not yet delivered")
        oldest = GaugeMetricFamily(
            "mention_monitor_outbox_oldest_undelivered_seconds", "Age of the oldest undelivered alert"
        )
        with self.engine.connect() as conn:
            for row in conn.execute(select(t)).mappings():
                name = row["source"]
                if row["lease_owner"] and row["lease_until"] and row["lease_until"] > self.now:
                    lease.add_metric([name, row["lease_owner"]], 1)
                state.add_metric([name, row["state"]], 1)
                if row["last_success_at"]:
                    last_ok.add_metric([name], row["last_success_at"].timestamp())
                if row["platform"] == "x":
                    cur = row["cursor"] or {}
                    today = self.now.date().isoformat()
                    x_read.add_metric([name], cur.get("reads", 0) if cur.get("reads_day") == today else 0)
                    settings = self.config.sources.get(name)
                    budget = getattr(settings, "daily_read_budget", None)
                    if budget is not None:
                        x_budget.add_metric([name], budget)
            counts = dict(conn.execute(select(d.c.status, func.count()).group_by(d.c.status)).all())
            first = conn.execute(
                select(func.min(a.c.created_at))
                .select_from(d.join(a, a.c.id == d.c.alert_id))
                .where(d.c.status.in_(UNDELIVERED))
            ).scalar()
        for status in m.DELIVERY_STATUSES:
            by_status.add_metric([status], counts.get(status, 0))
        backlog.add_metric([], sum(counts.get(s, 0) for s in UNDELIVERED))
        oldest.add_metric([], (self.now - first).total_seconds() if first else 0)
        yield from (lease, state, last_ok, x_read, x_budget, by_status, backlog, oldest)


@router.get("/metrics", include_in_schema=False)
def prometheus(request: Request) -> Response:
    engine, config, clock = _deps(request)
    process = liveness.PROCESS
    if process is not None and process.outage is not None:
        metrics.DB_OUTAGE.set(process.outage.duration())
    if process is not None and process.liveness is not None:
        metrics.LOOP_STALLED.set(len(process.liveness.stalled()))
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_DatabaseCollector(engine, config, clock()))  # type: ignore[arg-type]
    body = generate_latest(metrics.REGISTRY) + generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def create_app(engine: Engine, config: Config, *, clock: Clock = _utcnow) -> FastAPI:
    """An app with only ``/healthz`` and ``/metrics`` (dashboard off)."""
    app = FastAPI(title="mention-monitor health", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.health = (engine, config, clock)
    app.include_router(router)
    return app


def serve(engine: Engine, config: Config, stop: threading.Event, *, clock: Clock = _utcnow) -> None:
    """Serve ``/healthz`` and ``/metrics`` on ``service.health_listen`` until ``stop`` is set."""
    import uvicorn

    from monitor.web.server import _bind

    listen = config.service.health_listen
    assert listen is not None
    sock = _bind(listen)

    class _Server(uvicorn.Server):
        def install_signal_handlers(self) -> None:  # the daemon owns the signals
            pass

    server = _Server(
        uvicorn.Config(
            create_app(engine, config, clock=clock),
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
    )
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="health:uvicorn", daemon=True
    )
    thread.start()
    log.info("health and metrics on http://%s/healthz and /metrics", listen)
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                raise RuntimeError("the health server stopped by itself")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
