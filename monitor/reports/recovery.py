"""Recovery: after we replied to a negative mention, was the author's next mention less negative?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select, union_all
from sqlalchemy.engine import Connection

from monitor.reports.gaps import GapNote, coverage_gaps
from monitor.reports.period import ReportQuery
from monitor.reports.rollup import whole_days
from monitor.store import models as m


@dataclass
class RecoveryStats:
    platform: str
    replied: int  # negative mentions we replied to
    followed_up: int  # …whose author posted again afterwards (with a sentiment score)
    recovered: int  # …and that next mention was less negative

    @property
    def pct(self) -> float | None:
        return round(100 * self.recovered / self.followed_up, 1) if self.followed_up else None

    def row(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "replied": self.replied,
            "followed_up": self.followed_up,
            "recovered": self.recovered,
            "recovered_pct": self.pct,
        }


@dataclass
class RecoveryReport:
    overall: RecoveryStats
    platforms: list[RecoveryStats]
    gaps: list[GapNote]

    def rows(self) -> list[dict[str, object]]:
        return [s.row() for s in self.platforms] + [self.overall.row()]


def recovery(conn: Connection, query: ReportQuery, now: datetime) -> RecoveryReport:
    """Over negative mentions (complaints or polarity < 0) posted in the period and replied to."""
    per: dict[str, RecoveryStats] = {}
    days, edges = whole_days(query.start, query.end)
    parts = []
    if days:
        d = m.ReportResponseDaily.__table__
        q = (
            select(
                d.c.platform,
                func.sum(d.c.negative).label("n"),
                func.sum(d.c.followed).label("f"),
                func.sum(d.c.recovered).label("rec"),
            )
            .where(d.c.day >= days[0], d.c.day < days[1])
            .group_by(d.c.platform)
        )
        if query.platform:
            q = q.where(d.c.platform == query.platform)
        parts.append(q)
    r = m.ReportResponse.__table__
    followed = r.c.next_polarity.is_not(None) & r.c.polarity.is_not(None)
    for start, end in edges:
        q = (
            select(
                r.c.platform,
                func.count().label("n"),
                func.sum(case((followed, 1), else_=0)).label("f"),
                func.sum(case((followed & (r.c.next_polarity > r.c.polarity), 1), else_=0)).label("rec"),
            )
            .where(
                r.c.created_at >= start,
                r.c.created_at < end,
                or_(r.c.label == "complaint", r.c.polarity < 0),
            )
            .group_by(r.c.platform)
        )
        if query.platform:
            q = q.where(r.c.platform == query.platform)
        parts.append(q)
    # One statement for the whole days and the partial ones at either end.
    rows = conn.execute(union_all(*parts)).all() if len(parts) > 1 else conn.execute(parts[0]).all()
    for x in rows:
        s = per.setdefault(x.platform, RecoveryStats(x.platform, 0, 0, 0))
        s.replied += int(x.n or 0)
        s.followed_up += int(x.f or 0)
        s.recovered += int(x.rec or 0)
    platforms = [per[p] for p in sorted(per) if per[p].replied]
    overall = RecoveryStats(
        "all",
        sum(p.replied for p in platforms),
        sum(p.followed_up for p in platforms),
        sum(p.recovered for p in platforms),
    )
    return RecoveryReport(overall, platforms, coverage_gaps(conn, query, now))
