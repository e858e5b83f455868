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

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.engine import Connection

from monitor.reports.businesshours import sub_business
from monitor.reports.gaps import GapNote, coverage_gaps
from monitor.reports.period import ReportQuery
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
        .where(r.c.created_at >= query.start, r.c.created_at < query.end)
        .group_by(r.c.responder)
    )
    if query.platform:
        q = q.where(r.c.platform == query.platform)
    overall = ResponseStats("everyone")
    agents: list[ResponseStats] = []
    teams: dict[str, ResponseStats] = {}
    for row in conn.execute(q):
        stats = ResponseStats(row.responder or UNKNOWN)
        stats.responded = int(row.n)
        for i, (_, label) in enumerate(WITHIN):
            stats.within[label] = int(getattr(row, f"w{i}") or 0)
        stats.sla_met = int(row.met or 0)
        stats.total_seconds = float(row.total or 0)
        agents.append(stats)
        overall.add(stats)
        team = settings.teams.get(row.responder or "", NO_TEAM)
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


def _overdue_unanswered(conn: Connection, query: ReportQuery, settings: ReportSettings, now: datetime) -> int:
    """Complaints and questions posted in the period, still unanswered and already past their SLA.

    The deadline grows with the posting time, so "past it now" is "posted before a cutoff":
    one index range count per priority instead of a deadline per mention.
    """
    t = m.Mention.__table__
    total = 0
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
        prio = t.c.priority == priority
        if priority == "P3":
            prio = or_(prio, t.c.priority.is_(None))
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
        total += int(conn.execute(q).scalar_one())
    return total
