"""Manager reports: volume and sentiment, first-response SLA per agent and team, open complaints,
topics, repeat complainers, recovery — each with the coverage gaps that overlap it.

Each report is a pure read of small pre-aggregated tables (:mod:`monitor.reports.rollup`)
returning a dataclass with ``rows()`` for CSV/JSON export. :func:`build` runs the
roll-up catch-up and then the report asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from monitor.reports.complaints import open_complaints, repeat_complainers, top_topics
from monitor.reports.gaps import shared_gaps
from monitor.reports.period import ReportQuery
from monitor.reports.recovery import recovery
from monitor.reports.response import responses
from monitor.reports.rollup import catch_up
from monitor.reports.settings import ReportSettings
from monitor.reports.volume import volume

# name -> (title, builder(conn, query, settings, now))
REPORTS: dict[str, tuple[str, Callable[..., Any]]] = {
    "volume": ("Volume and sentiment", lambda c, q, s, now: volume(c, q, now, s.business_hours.timezone)),
    "response": ("First response and SLA", lambda c, q, s, now: responses(c, q, s, now)),
    "open": ("Open complaints by age", lambda c, q, s, now: open_complaints(c, q, now)),
    "topics": ("Top complaint topics", lambda c, q, s, now: top_topics(c, q, now)),
    "complainers": ("Top repeat complainers", lambda c, q, s, now: repeat_complainers(c, q, now)),
    "recovery": ("Recovery after a reply", lambda c, q, s, now: recovery(c, q, now)),
}


def build(
    engine: Engine, names: list[str], query: ReportQuery, settings: ReportSettings, now: datetime
) -> dict[str, Any]:
    """Catch the roll-ups up, then build the named reports."""
    catch_up(engine, settings.rollup)
    return read(engine, names, query, settings, now)


def read(
    engine: Engine, names: list[str], query: ReportQuery, settings: ReportSettings, now: datetime
) -> dict[str, Any]:
    """Build the named reports from the roll-ups as they are (one read connection)."""
    with engine.connect() as conn, shared_gaps():
        return {name: REPORTS[name][1](conn, query, settings, now) for name in names}


__all__ = ["REPORTS", "ReportQuery", "ReportSettings", "build", "catch_up", "read"]
