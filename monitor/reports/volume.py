"""Volume and sentiment over time per platform, from the hourly roll-up (never the mention table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from monitor.reports.gaps import GapNote, coverage_gaps
from monitor.reports.period import ReportQuery
from monitor.reports.rollup import hour_of
from monitor.store import models as m

LABELS = ("complaint", "question", "praise", "neutral", "spam", "unscored")


@dataclass
class VolumePoint:
    """One platform in one bucket (an hour, or a day in the business time zone)."""

    bucket: datetime
    platform: str
    mentions: int = 0
    by_label: dict[str, int] = field(default_factory=dict)
    polarity_sum: float = 0.0
    polarity_n: int = 0
    negative: int = 0

    @property
    def avg_polarity(self) -> float | None:
        return round(self.polarity_sum / self.polarity_n, 3) if self.polarity_n else None

    @property
    def negative_share(self) -> float | None:
        return round(self.negative / self.polarity_n, 3) if self.polarity_n else None


@dataclass
class VolumeReport:
    query: ReportQuery
    timezone: str
    buckets: list[datetime]
    platforms: list[str]
    points: dict[tuple[datetime, str], VolumePoint]
    gaps: list[GapNote]

    def point(self, bucket: datetime, platform: str) -> VolumePoint:
        return self.points.get((bucket, platform)) or VolumePoint(bucket, platform)

    def total(self, platform: str | None = None) -> int:
        return sum(p.mentions for p in self.points.values() if platform in (None, p.platform))

    def gap_buckets(self, now: datetime) -> list[bool]:
        """For each bucket: does a coverage gap overlap it?"""
        width = timedelta(days=1) if self.query.by_day else timedelta(hours=1)
        return [any(g.overlaps(b, b + width, now) for g in self.gaps) for b in self.buckets]

    def rows(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for b in self.buckets:
            for platform in self.platforms:
                p = self.point(b, platform)
                out.append(
                    {
                        "bucket": b.isoformat(),
                        "platform": platform,
                        "mentions": p.mentions,
                        **{lab: p.by_label.get(lab, 0) for lab in LABELS},
                        "avg_polarity": p.avg_polarity,
                        "negative_share": p.negative_share,
                    }
                )
        return out


def volume(conn: Connection, query: ReportQuery, now: datetime, timezone: str = "UTC") -> VolumeReport:
    """Mentions per platform and bucket with the label mix and mean sentiment.

    Beyond three days the buckets are whole local days (``report_daily``), else UTC hours.
    """
    zone = ZoneInfo(timezone)
    # One row per platform and bucket, the labels as columns (summed in the database: a 90-day
    # chart is ~450 rows, not one per label).
    if query.by_day:
        d = m.ReportDaily.__table__
        first = query.start.astimezone(zone).date()
        last = query.end.astimezone(zone).date()
        table, when = d, d.c.day
        where = [d.c.day >= first, d.c.day <= last]
    else:
        h = m.ReportHourly.__table__
        table, when = h, h.c.hour
        where = [h.c.hour >= hour_of(query.start), h.c.hour < query.end]
    if query.platform:
        where.append(table.c.platform == query.platform)
    q = (
        select(
            table.c.platform,
            when,
            func.sum(table.c.n),
            func.sum(table.c.polarity_sum),
            func.sum(table.c.polarity_n),
            func.sum(table.c.negative_n),
            *[func.sum(case((table.c.label == lab, table.c.n), else_=0)) for lab in LABELS],
        )
        .where(*where)
        .group_by(table.c.platform, when)
    )
    buckets = _buckets(query, zone)
    points: dict[tuple[datetime, str], VolumePoint] = {}
    platforms: set[str] = set()
    for platform, at, n, ps, pn, neg, *per_label in conn.execute(q):
        bucket = datetime(at.year, at.month, at.day, tzinfo=zone) if query.by_day else at
        platforms.add(platform)
        points[(bucket, platform)] = VolumePoint(
            bucket,
            platform,
            mentions=int(n or 0),
            by_label={lab: int(c) for lab, c in zip(LABELS, per_label, strict=True) if c},
            polarity_sum=float(ps or 0),
            polarity_n=int(pn or 0),
            negative=int(neg or 0),
        )
    return VolumeReport(
        query=query,
        timezone=timezone,
        buckets=buckets,
        platforms=sorted(platforms),
        points=points,
        gaps=coverage_gaps(conn, query, now),
    )


def _buckets(query: ReportQuery, zone: ZoneInfo) -> list[datetime]:
    out: list[datetime] = []
    if query.by_day:
        day = query.start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        while day < query.end:
            out.append(day)
            # Aware arithmetic with a ZoneInfo is wall-clock: the next local midnight, DST or not.
            day = day + timedelta(days=1)
        return out
    hour = hour_of(query.start)
    while hour < query.end:
        out.append(hour)
        hour += timedelta(hours=1)
    return out
