"""Complaints: how old the open ones are, what they are about, and who keeps complaining."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, desc, func, literal, select, union_all
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

    Whole UTC days that no band edge cuts are summed from ``report_open`` (each lies in one
    band; days before the last edge are all "> 7 d"). The days an edge cuts are counted from
    ``report_complaint``'s rows, split exactly at the edge.
    """
    rc = m.ReportComplaint.__table__
    ro = m.ReportOpen.__table__
    edges = [now - limit for limit, _ in AGE_BANDS if limit is not None]
    cut_days = sorted({day_of(e) for e in edges})
    counts = {label: dict.fromkeys(OPEN_STATUSES, 0) for _, label in AGE_BANDS}

    def band(at: datetime) -> int:
        return next((i for i, e in enumerate(edges) if at > e), len(AGE_BANDS) - 1)

    oldest = cut_days[0]
    # Days before the oldest cut day are all "> 7 d": summed as one group (day NULL).
    day = case((ro.c.day < oldest, None), else_=ro.c.day)
    days = (
        select(day.label("day"), ro.c.status, func.sum(ro.c.n).label("n"))
        .where(ro.c.day.not_in(cut_days))
        .group_by(day, ro.c.status)
    )
    rows_band = case(
        *[(rc.c.created_at > e, literal(i)) for i, e in enumerate(edges)], else_=literal(len(AGE_BANDS) - 1)
    )
    # One index range per cut day, in one statement (an OR of ranges walks the whole index on SQLite).
    per_day = []
    for d in cut_days:
        q = select(rc.c.open_status, rows_band.label("band"), func.count().label("n")).where(
            rc.c.open_status.is_not(None), rc.c.created_at >= d, rc.c.created_at < d + timedelta(days=1)
        )
        if query.platform:
            q = q.where(rc.c.platform == query.platform)
        per_day.append(q.group_by(rc.c.open_status, rows_band))
    if query.platform:
        days = days.where(ro.c.platform == query.platform)
    for row in conn.execute(days):
        if row.status in OPEN_STATUSES:
            at = len(AGE_BANDS) - 1 if row.day is None else band(_aware(row.day))
            counts[AGE_BANDS[at][1]][row.status] += int(row.n or 0)
    for row in conn.execute(union_all(*per_day)):
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
