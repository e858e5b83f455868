"""Recovery: after we replied to a negative mention, was the author's next mention less negative?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.engine import Connection

from monitor.reports.gaps import GapNote, coverage_gaps
from monitor.reports.period import ReportQuery
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
    r = m.ReportResponse.__table__
    followed = r.c.next_mention_id.is_not(None) & r.c.next_polarity.is_not(None) & r.c.polarity.is_not(None)
    q = (
        select(
            r.c.platform,
            func.count().label("n"),
            func.sum(case((followed, 1), else_=0)).label("f"),
            func.sum(case((followed & (r.c.next_polarity > r.c.polarity), 1), else_=0)).label("rec"),
        )
        .where(
            r.c.created_at >= query.start,
            r.c.created_at < query.end,
            or_(r.c.label == "complaint", r.c.polarity < 0),
        )
        .group_by(r.c.platform)
        .order_by(r.c.platform)
    )
    if query.platform:
        q = q.where(r.c.platform == query.platform)
    platforms = [RecoveryStats(x.platform, int(x.n), int(x.f or 0), int(x.rec or 0)) for x in conn.execute(q)]
    overall = RecoveryStats(
        "all",
        sum(p.replied for p in platforms),
        sum(p.followed_up for p in platforms),
        sum(p.recovered for p in platforms),
    )
    return RecoveryReport(overall, platforms, coverage_gaps(conn, query, now))
