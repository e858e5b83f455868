"""Complaints: how old the open ones are, what they are about, and who keeps complaining."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, desc, func, literal, select
from sqlalchemy.engine import Connection

from monitor.reports.complaint_rollup import OPEN_STATUSES
from monitor.reports.gaps import GapNote, coverage_gaps
from monitor.reports.period import ReportQuery
from monitor.reports.rollup import ALL_PLATFORMS, day_of
from monitor.store import models as m

# (upper bound of age, label); the last band is open-ended.
AGE_BANDS = (
    (timedelta(hours=1), "< 1 h"),
    (timedelta(hours=4), "1–4 h"),
    (timedelta(hours=24), "4–24 h"),
    (timedelta(days=3), "1–3 d"),
    (timedelta(days=7), "3–7 d"),
    (None, "> 7 d"),
)


@dataclass
class OpenComplaints:
    """Complaints not resolved or ignored, now, by age band and status."""

    counts: dict[str, dict[str, int]]  # band -> status -> count
    gaps: list[GapNote]

    @property
    def bands(self) -> list[str]:
        return [label for _, label in AGE_BANDS]

    @property
    def total(self) -> int:
        return sum(sum(v.values()) for v in self.counts.values())

    def rows(self) -> list[dict[str, object]]:
        return [
            {
                "age": band,
                **{s: self.counts[band][s] for s in OPEN_STATUSES},
                "total": sum(self.counts[band].values()),
            }
            for band in self.bands
        ]


def open_complaints(conn: Connection, query: ReportQuery, now: datetime) -> OpenComplaints:
    """Open complaints by age (a snapshot at ``now``; the period only picks the gaps shown).

    Days before the last band's edge are all "> 7 d": summed from ``report_open``. The newer
    ones are counted from ``report_complaint`` (their rows, cut exactly at each band's edge).
    """
    rc = m.ReportComplaint.__table__
    ro = m.ReportOpen.__table__
    oldest = AGE_BANDS[-2][0]
    assert oldest is not None
    cut = day_of(now - oldest)
    counts = {label: dict.fromkeys(OPEN_STATUSES, 0) for _, label in AGE_BANDS}
    old = select(ro.c.status, func.sum(ro.c.n).label("n")).where(ro.c.day < cut).group_by(ro.c.status)
    whens = []
    for i, (limit, _) in enumerate(AGE_BANDS):
        if limit is not None:
            whens.append((rc.c.created_at > now - limit, literal(i)))
    band = case(*whens, else_=literal(len(AGE_BANDS) - 1))
    recent = (
        select(rc.c.open_status, band.label("band"), func.count().label("n"))
        .where(rc.c.open_status.is_not(None), rc.c.created_at >= cut)
        .group_by(rc.c.open_status, band)
    )
    if query.platform:
        old = old.where(ro.c.platform == query.platform)
        recent = recent.where(rc.c.platform == query.platform)
    for row in conn.execute(old):
        if row.status in OPEN_STATUSES:
            counts[AGE_BANDS[-1][1]][row.status] += int(row.n or 0)
    for row in conn.execute(recent):
        counts[AGE_BANDS[int(row.band)][1]][row.open_status] += int(row.n)
    return OpenComplaints(counts, coverage_gaps(conn, query, now))


@dataclass
class Topic:
    phrase: str
    complaints: int


@dataclass
class TopTopics:
    topics: list[Topic]
    gaps: list[GapNote]

    def rows(self) -> list[dict[str, object]]:
        return [{"phrase": t.phrase, "complaints": t.complaints} for t in self.topics]


def top_topics(conn: Connection, query: ReportQuery, now: datetime, limit: int = 15) -> TopTopics:
    """The key phrases found in most complaints of the period (whole UTC days)."""
    tt = m.ReportTopic.__table__
    total = func.sum(tt.c.n).label("n")
    q = (
        select(tt.c.phrase, total)
        .where(
            tt.c.platform == (query.platform or ALL_PLATFORMS),
            tt.c.day >= day_of(query.start),
            tt.c.day < query.end,
        )
        .group_by(tt.c.phrase)
        .having(func.sum(tt.c.n) > 1)
        .order_by(desc("n"), tt.c.phrase)
        .limit(limit)
    )
    topics = [Topic(r.phrase, int(r.n)) for r in conn.execute(q)]
    return TopTopics(topics, coverage_gaps(conn, query, now))


@dataclass
class Complainer:
    platform: str
    handle: str
    complaints: int
    last_at: datetime


@dataclass
class RepeatComplainers:
    authors: list[Complainer]
    gaps: list[GapNote]

    def rows(self) -> list[dict[str, object]]:
        return [
            {
                "platform": a.platform,
                "handle": a.handle,
                "complaints": a.complaints,
                "last_at": a.last_at.isoformat(),
            }
            for a in self.authors
        ]


def repeat_complainers(
    conn: Connection, query: ReportQuery, now: datetime, limit: int = 15
) -> RepeatComplainers:
    """Authors with more than one complaint in the period, most first.

    Read from ``report_complaint``: an author's k complaints in the period are k - 1 rows whose
    previous complaint is in the period too (``prev_at >= start``), and only those are read.
    """
    rc = m.ReportComplaint.__table__
    n = (func.count() + 1).label("n")
    q = (
        select(rc.c.platform, rc.c.author_handle, n, func.max(rc.c.created_at).label("last_at"))
        .where(rc.c.prev_at >= query.start, rc.c.prev_at < query.end, rc.c.created_at < query.end)
        .group_by(rc.c.platform, rc.c.author_handle)
        .order_by(desc("n"), desc("last_at"))
        .limit(limit)
    )
    if query.platform:
        q = q.where(rc.c.platform == query.platform)
    authors = [Complainer(r.platform, r.author_handle, int(r.n), _aware(r.last_at)) for r in conn.execute(q)]
    return RepeatComplainers(authors, coverage_gaps(conn, query, now))


def _aware(value: datetime | str) -> datetime:
    # max() over a UTCDateTime column comes back raw (naive, or text on SQLite).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
