"""First-response times: the distribution, the share answered within 15 min / 1 h / 4 h / 24 h, and
the % of SLA met per agent and per team (chatwoot#9747), timed in business hours or on the wall clock.

Read from ``report_response`` (each first response already timed at roll-up).
A mention counts in the period it was posted in. The overall % SLA met also
counts complaints and questions that got no response and are already past
their deadline; ignored ones are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.engine import Connection

from monitor.reports.businesshours import sub_business
from monitor.reports.gaps import GapNote, coverage_gaps
from monitor.reports.period import ReportQuery
from monitor.reports.rollup import whole_days
from monitor.reports.settings import ReportSettings
from monitor.store import models as m
from monitor.store.models import MENTION_STATUSES

# Cumulative thresholds the report shows (seconds, label).
WITHIN = ((15 * 60, "15 min"), (3600, "1 h"), (4 * 3600, "4 h"), (24 * 3600, "24 h"))
NEEDS_RESPONSE = ("complaint", "question")
NO_TEAM = "(no team)"
UNKNOWN = "(unknown)"


@dataclass
class ResponseStats:
    """First responses of one agent, team or everyone."""

    name: str
    responded: int = 0
    within: dict[str, int] = field(default_factory=lambda: {label: 0 for _, label in WITHIN})
    sla_met: int = 0
    total_seconds: float = 0.0

    def add(self, other: ResponseStats) -> None:
        self.responded += other.responded
        for k, v in other.within.items():
            self.within[k] += v
        self.sla_met += other.sla_met
        self.total_seconds += other.total_seconds

    @property
    def avg_minutes(self) -> float | None:
        return round(self.total_seconds / self.responded / 60, 1) if self.responded else None

    def share_within(self, label: str) -> float | None:
        return round(100 * self.within[label] / self.responded, 1) if self.responded else None

    @property
    def sla_pct(self) -> float | None:
        return round(100 * self.sla_met / self.responded, 1) if self.responded else None

    def row(self) -> dict[str, object]:
        return {
            "name": self.name,
            "responded": self.responded,
            **{f"within_{label.replace(' ', '')}": self.within[label] for _, label in WITHIN},
            **{f"pct_within_{label.replace(' ', '')}": self.share_within(label) for _, label in WITHIN},
            "sla_met": self.sla_met,
            "sla_pct": self.sla_pct,
            "avg_minutes": self.avg_minutes,
        }


@dataclass
class ResponseReport:
    query: ReportQuery
    sla_minutes: dict[str, float]
    overall: ResponseStats
    agents: list[ResponseStats]
    teams: list[ResponseStats]
    overdue_unanswered: int
    gaps: list[GapNote]

    @property
    def histogram(self) -> list[tuple[str, int]]:
        """Responses per time band: ≤15 min, 15 min–1 h, 1–4 h, 4–24 h, > 24 h."""
        out, below, previous = [], 0, None
        for _, label in WITHIN:
            n = self.overall.within[label]
            out.append((f"≤ {label}" if previous is None else f"{previous}–{label}", n - below))
            below, previous = n, label
        out.append((f"> {previous}", self.overall.responded - below))
        return out

    @property
    def sla_pct(self) -> float | None:
        """Met / (responded + unanswered past their deadline)."""
        due = self.overall.responded + self.overdue_unanswered
        return round(100 * self.overall.sla_met / due, 1) if due else None

    def rows(self) -> list[dict[str, object]]:
        out = [{"kind": "all", **self.overall.row(), "overdue_unanswered": self.overdue_unanswered}]
        out += [{"kind": "team", **t.row(), "overdue_unanswered": None} for t in self.teams]
        out += [{"kind": "agent", **a.row(), "overdue_unanswered": None} for a in self.agents]
        return out


def responses(
    conn: Connection, query: ReportQuery, settings: ReportSettings, now: datetime
) -> ResponseReport:
    sla = settings.sla
    per_agent: dict[str | None, ResponseStats] = {}
    days, edges = whole_days(query.start, query.end)
    # Whole days from the daily roll-up, the partial first and last day from the rows: one statement.
    parts = ([_from_days(query, days)] if days else []) + [_from_rows(query, settings, e) for e in edges]
    rows = conn.execute(union_all(*parts)).all() if len(parts) > 1 else conn.execute(parts[0]).all()
    for row in rows:
        who = row.responder or None
        stats = per_agent.setdefault(who, ResponseStats(who or UNKNOWN))
        stats.responded += int(row.n)
        for i, (_, label) in enumerate(WITHIN):
            stats.within[label] += int(getattr(row, f"w{i}") or 0)
        stats.sla_met += int(row.met or 0)
        stats.total_seconds += float(row.total or 0)
    overall = ResponseStats("everyone")
    agents = list(per_agent.values())
    teams: dict[str, ResponseStats] = {}
    for who, stats in per_agent.items():
        overall.add(stats)
        team = settings.teams.get(who or "", NO_TEAM)
        teams.setdefault(team, ResponseStats(team)).add(stats)
    agents.sort(key=lambda s: (-s.responded, s.name))
    return ResponseReport(
        query=query,
        sla_minutes={"P1": sla.p1_minutes, "P2": sla.p2_minutes, "P3": sla.p3_minutes},
        overall=overall,
        agents=agents,
        teams=sorted(teams.values(), key=lambda s: (s.name == NO_TEAM, s.name)),
        overdue_unanswered=_overdue_unanswered(conn, query, settings, now),
        gaps=coverage_gaps(conn, query, now),
    )


def _from_days(query: ReportQuery, days: tuple[datetime, datetime]) -> Any:
    """Whole days of the period, from ``report_response_daily``."""
    d = m.ReportResponseDaily.__table__
    cols = (
        ("b15", "b60", "b240", "b1440", "met_b", "sum_b")
        if query.business_hours
        else ("w15", "w60", "w240", "w1440", "met_w", "sum_w")
    )
    q = (
        select(
            d.c.responder,
            func.sum(d.c.n).label("n"),
            *[func.sum(d.c[c]).label(f"w{i}") for i, c in enumerate(cols[:4])],
            func.sum(d.c[cols[4]]).label("met"),
            func.sum(d.c[cols[5]]).label("total"),
        )
        .where(d.c.day >= days[0], d.c.day < days[1])
        .group_by(d.c.responder)
    )
    if query.platform:
        q = q.where(d.c.platform == query.platform)
    return q


def _from_rows(query: ReportQuery, settings: ReportSettings, edge: tuple[datetime, datetime]) -> Any:
    """The part of a day at either end of the period, from ``report_response`` itself."""
    r = m.ReportResponse.__table__
    seconds = r.c.business_seconds if query.business_hours else r.c.wall_seconds
    sla = settings.sla
    limit = case(
        (r.c.priority == "P1", literal(sla.p1_minutes * 60)),
        (r.c.priority == "P2", literal(sla.p2_minutes * 60)),
        else_=literal(sla.p3_minutes * 60),
    )
    q = (
        select(
            r.c.responder,
            func.count().label("n"),
            *[
                func.sum(case((seconds <= limit_s, 1), else_=0)).label(f"w{i}")
                for i, (limit_s, _) in enumerate(WITHIN)
            ],
            func.sum(case((seconds <= limit, 1), else_=0)).label("met"),
            func.sum(seconds).label("total"),
        )
        .where(r.c.created_at >= edge[0], r.c.created_at < edge[1])
        .group_by(r.c.responder)
    )
    if query.platform:
        q = q.where(r.c.platform == query.platform)
    return q


def _overdue_unanswered(conn: Connection, query: ReportQuery, settings: ReportSettings, now: datetime) -> int:
    """Complaints and questions posted in the period, still unanswered and already past their SLA.

    The deadline grows with the posting time, so "past it now" is "posted before a cutoff":
    one index range count per priority instead of a deadline per mention.
    """
    t = m.Mention.__table__
    counts = []
    for priority, minutes in (
        ("P1", settings.sla.p1_minutes),
        ("P2", settings.sla.p2_minutes),
        ("P3", settings.sla.p3_minutes),
    ):
        if query.business_hours:
            cutoff = sub_business(now, minutes * 60, settings.business_hours)
        else:
            cutoff = now - timedelta(minutes=minutes)
        if cutoff is None:
            continue
        upper = min(query.end, cutoff)
        if upper <= query.start:
            continue
        # Mentions without a priority are held to P3's target; one index range per value.
        for prio in (
            (t.c.priority == priority, t.c.priority.is_(None))
            if priority == "P3"
            else (t.c.priority == priority,)
        ):
            q = select(func.count()).where(
                t.c.label.in_(NEEDS_RESPONSE),
                prio,
                t.c.status.in_([s for s in MENTION_STATUSES if s != "ignored"]),
                t.c.first_response_at.is_(None),
                t.c.created_at >= query.start,
                t.c.created_at <= upper,
            )
            if query.platform:
                q = q.where(t.c.platform == query.platform)
            counts.append(q.scalar_subquery())
    if not counts:
        return 0
    # Every range counted in one statement (one round trip, not four).
    return sum(int(n or 0) for n in conn.execute(select(*counts)).one())
