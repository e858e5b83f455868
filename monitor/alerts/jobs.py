"""The notifier's periodic jobs, one transaction each: escalation, incident updates, digest, operators."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Connection, Engine

from monitor.alerts import digest, escalation, incidents, operators
from monitor.alerts.routing import Destination
from monitor.alerts.settings import AlertSettings
from monitor.config import Config

log = logging.getLogger(__name__)

Job = Callable[[Connection, AlertSettings, dict[str, list[Destination]], datetime], int]


def _incident_updates(
    conn: Connection, settings: AlertSettings, by_route: dict[str, list[Destination]], now: datetime
) -> int:
    return incidents.run_updates(conn, settings.incidents, by_route, now)


JOBS: dict[str, Job] = {
    "escalation": escalation.run,
    "incidents": _incident_updates,
    "digest": digest.run,
    "operators": operators.run,
}


def run_all(engine: Engine, config: Config, by_route: dict[str, list[Destination]], now: datetime) -> int:
    """Run every job; one failing job is logged and does not stop the others. Returns alerts queued."""
    queued = 0
    for name, job in JOBS.items():
        try:
            with engine.begin() as conn:
                queued += job(conn, config.alerts, by_route, now)
        except Exception:
            log.exception("alert job %r failed; it runs again on the next tick", name)
    return queued
