"""Source coverage gaps ("x blind 02:10–05:40, ~31 posts missed") that overlap a report's period.

Every figure is read next to the times its sources were blind. A gap without
the platform's own estimate of missed posts gets one from the source's usual
rate (its mentions per hour over the week before the gap).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from monitor.reports.period import ReportQuery
from monitor.store import models as m

RATE_WINDOW = timedelta(days=7)
MAX_GAPS = 50


@dataclass(frozen=True)
class GapNote:
    source: str
    platform: str | None
    start: datetime
    end: datetime | None  # None: still blind
    reason: str
    estimated_missed: int | None
    estimate_from_rate: bool  # True: our estimate from the usual rate, not the platform's count

    def overlaps(self, start: datetime, end: datetime, now: datetime) -> bool:
        return self.start < end and (self.end or now) > start

    def text(self, timezone: str = "UTC") -> str:
        zone = ZoneInfo(timezone)
        a = self.start.astimezone(zone)
        b = self.end.astimezone(zone) if self.end else None
        fmt = "%H:%M" if b and b.date() == a.date() else "%d %b %H:%M"
        span = f"{a.strftime('%d %b %H:%M')}–{b.strftime(fmt) if b else 'now'}"
        missed = ""
        if self.estimated_missed:
            missed = f", ~{self.estimated_missed} post{'s' if self.estimated_missed != 1 else ''} missed"
        return f"{self.source} blind {span}{missed}"

    def row(self) -> dict[str, object]:
        return {
            "source": self.source,
            "platform": self.platform,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "reason": self.reason,
            "estimated_missed": self.estimated_missed,
            "estimate_from_rate": self.estimate_from_rate,
        }


# Inside :func:`shared_gaps` (a page of several reports) the gaps are read once per period.
_SHARED: ContextVar[dict[tuple[ReportQuery, datetime], list[GapNote]] | None] = ContextVar(
    "report_gaps", default=None
)


@contextmanager
def shared_gaps() -> Iterator[None]:
    """Reports built inside share each period's coverage gaps (read once, not once per report)."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def coverage_gaps(conn: Connection, query: ReportQuery, now: datetime) -> list[GapNote]:
    """Gaps of the query's platform (or all) that overlap ``[query.start, query.end)``."""
    cache = _SHARED.get()
    if cache is None:
        return _read_gaps(conn, query, now)
    key = (query, now)
    if key not in cache:
        cache[key] = _read_gaps(conn, query, now)
    return list(cache[key])


def _read_gaps(conn: Connection, query: ReportQuery, now: datetime) -> list[GapNote]:
    g = m.CoverageGap.__table__
    c = m.SourceCursor.__table__
    q = (
        select(g, c.c.platform)
        .select_from(g.outerjoin(c, c.c.source == g.c.source))
        .where(g.c.start < query.end, or_(g.c.end.is_(None), g.c.end > query.start))
        .order_by(g.c.start.desc())
        .limit(MAX_GAPS)
    )
    if query.platform:
        q = q.where(or_(c.c.platform == query.platform, c.c.platform.is_(None)))
    notes = []
    for row in conn.execute(q).mappings():
        missed, ours = row["estimated_missed"], False
        if missed is None:
            missed, ours = _estimate(conn, row["source"], row["start"], row["end"] or now), True
        notes.append(
            GapNote(
                source=row["source"],
                platform=row["platform"],
                start=row["start"],
                end=row["end"],
                reason=row["reason"],
                estimated_missed=missed,
                estimate_from_rate=ours,
            )
        )
    return sorted(notes, key=lambda n: n.start)


def _estimate(conn: Connection, source: str, start: datetime, end: datetime) -> int | None:
    h = m.ReportHourly.__table__
    seen = conn.execute(
        select(func.coalesce(func.sum(h.c.n), 0)).where(
            h.c.source == source, h.c.hour >= start - RATE_WINDOW, h.c.hour < start
        )
    ).scalar_one()
    if not seen:
        return None
    per_second = float(seen) / RATE_WINDOW.total_seconds()
    return round(per_second * max(0.0, (end - start).total_seconds()))
