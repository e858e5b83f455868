"""Keeps the report roll-ups up to date: a cheap catch-up keyed on what it has already read.

Reports never scan a million mentions per request. They read three small
tables this module maintains:

* ``report_hourly`` – mentions per source, UTC hour and label with sentiment sums
  (new mentions, read by id; label corrections move a mention between labels);
* ``report_topic`` – key phrases of complaints per day and platform (and all platforms);
* ``report_complaint`` / ``report_open`` – each complaint with its author's previous one and
  its open status, open complaints per day (:mod:`monitor.reports.complaint_rollup`; new
  mentions by id, status changes and relabels from the audit events);
* ``report_response`` – each first response timed on the wall clock and in
  business hours, and the author's next mention after it (recovery).

:func:`catch_up` reads only what is new since its last run (mention id,
correction id, first-response time), in batches, each batch in one
transaction that starts by taking the ``report_state`` lock row, so two
dashboard workers never count a mention twice. The dashboard calls it before
each report; on a live system that is a few rows. Changing the business hours
re-times every response once (their fingerprint is stored).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.engine import Connection, Engine

from monitor.alerts.settings import BusinessHours, SLASettings
from monitor.reports import complaint_rollup
from monitor.reports.businesshours import business_seconds, fingerprint
from monitor.reports.phrases import key_phrases
from monitor.store import models as m
from monitor.store.db import insert_for
from monitor.store.types import UTCDateTime

log = logging.getLogger(__name__)

BATCH = 10_000
# First responses are read from the newest one already rolled up minus this margin, so a reply
# recorded a little out of order is still picked up (the anti-join skips those already done).
RESPONSE_MARGIN = timedelta(days=1)
TOPICS_KEPT = 200  # phrases kept per platform and finished day
ALL_PLATFORMS = ""  # report_topic's platform for the phrases of every platform together
_STATE = (
    "lock",
    "mentions",
    "corrections",
    "responses",
    "hours",
    "timezone",
    "topics",
    "sla",
    "complaints",
    "events",
)
# Audit events are read again from this many ids back: on PostgreSQL a transaction can commit
# after one with a higher id (reading a mention twice is harmless, see complaint_rollup).
EVENT_MARGIN = 200


@dataclass(frozen=True)
class RollupSettings:
    """What the roll-up needs from the config."""

    business_hours: BusinessHours
    brand_terms: tuple[str, ...] = ()
    sla: SLASettings = field(default_factory=SLASettings)


WITHIN_SECONDS = (15 * 60, 3600, 4 * 3600, 24 * 3600)


def sla_fingerprint(sla: SLASettings) -> str:
    return f"{sla.p1_minutes}|{sla.p2_minutes}|{sla.p3_minutes}"


@dataclass
class CatchUp:
    """What one :func:`catch_up` call read."""

    mentions: int = 0
    corrections: int = 0
    responses: int = 0
    retimed: bool = False
    behind: int = 0


def hour_of(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def day_of(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def whole_days(
    start: datetime, end: datetime
) -> tuple[tuple[datetime, datetime] | None, list[tuple[datetime, datetime]]]:
    """Split ``[start, end)`` into whole UTC days (read from a daily roll-up) and the edges
    before and after them (read from the rows), so a period's figures stay exact."""
    first = day_of(start) if start == day_of(start) else day_of(start) + timedelta(days=1)
    last = day_of(end)
    if first >= last:
        return None, [(start, end)]
    edges = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return (first, last), edges


def catch_up(
    engine: Engine, settings: RollupSettings, *, batch: int = BATCH, max_rows: int | None = None
) -> CatchUp:
    """Roll up what was stored since the last call; returns how much was read.

    ``max_rows`` bounds the work of one call (a page view after importing a million mentions
    must not take minutes): the rest is read by the next calls, and ``behind`` says how many
    mentions are still waiting.
    """
    result = CatchUp()
    if not _anything_new(engine, settings):
        return result  # the usual case on a quiet system: no write, no lock
    _ensure_state(engine)
    if _retime_if_hours_changed(engine, settings):
        result.retimed = True
    _redo_days_if_zone_changed(engine, settings)
    _resum_if_sla_changed(engine, settings)
    budget = max_rows if max_rows is not None else float("inf")
    while budget > 0:
        step = int(min(batch, budget))
        with engine.begin() as conn:
            state = _lock(conn)
            did = _corrections(conn, state, step, settings)
            result.corrections += did
            done = _mentions(conn, state, step, settings)
            result.mentions += done
            backfilled = _complaints(conn, state, step)
            changed = _events(conn, state, step)
        budget -= max(done, did, backfilled, changed)
        if max(done, did, backfilled, changed) < step:
            break
    while budget > 0:
        step = int(min(batch, budget))
        with engine.begin() as conn:
            state = _lock(conn)
            done = _responses(conn, state, step, settings)
            result.responses += done
        budget -= done
        if done < step:
            break
    with engine.begin() as conn:
        state = _lock(conn)
        _prune_topics(conn, state)
    result.behind = _behind(engine)
    return result


def _behind(engine: Engine) -> int:
    """Mentions stored but not rolled up yet (ids are dense enough for an estimate)."""
    t = m.Mention.__table__
    table = m.ReportState.__table__
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(t.c.id))).scalar() or 0
        done = conn.execute(
            select(func.min(table.c.int_value)).where(table.c.name.in_(("mentions", "complaints")))
        ).scalar()
    return max(0, int(newest) - int(done or 0))


def _prune_topics(conn: Connection, state: dict[str, Any]) -> None:
    """Keep the top phrases of each finished day, drop its long tail (one-off phrases, typos).

    Top topics add days up; a phrase outside a day's top :data:`TOPICS_KEPT` cannot reach the
    period's top 15 unless it is spread thinly over many days. Days still receiving mentions
    (the newest two) stay complete.
    """
    tt = m.ReportTopic.__table__
    t = m.Mention.__table__
    newest_id = state["mentions"].int_value or 0
    if not newest_id:
        return
    newest = conn.execute(select(t.c.created_at).where(t.c.id <= newest_id).order_by(t.c.id.desc()).limit(1))
    latest = newest.scalar()
    if latest is None:
        return
    until = day_of(latest) - timedelta(days=2)
    since = state["topics"].at
    if since is not None and since >= until:
        return
    q = select(tt.c.day, tt.c.platform).where(tt.c.day < until).distinct()
    if since is not None:
        q = q.where(tt.c.day >= since)
    for day, platform in conn.execute(q).all():
        floor = conn.execute(
            select(tt.c.n)
            .where(tt.c.day == day, tt.c.platform == platform)
            .order_by(tt.c.n.desc())
            .limit(1)
            .offset(TOPICS_KEPT - 1)
        ).scalar()
        if floor is not None:
            conn.execute(tt.delete().where(tt.c.day == day, tt.c.platform == platform, tt.c.n < floor))
    _set(conn, "topics", at=until)


# -- state ------------------------------------------------------------------------------------


def _ensure_state(engine: Engine) -> None:
    table = m.ReportState.__table__
    with engine.connect() as conn:
        present = {r[0] for r in conn.execute(select(table.c.name))}
    missing = [n for n in _STATE if n not in present]
    if missing:
        insert = insert_for(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(table).on_conflict_do_nothing(index_elements=["name"]),
                [{"name": n, "int_value": 0 if n not in ("responses", "topics") else None} for n in missing],
            )


def _anything_new(engine: Engine, settings: RollupSettings) -> bool:
    """Read-only check: new mentions, events, corrections or first responses, or other hours?

    Two round trips (the state, then every "newest" in one statement): each page view pays it.
    """
    table = m.ReportState.__table__
    t = m.Mention.__table__
    r = m.ReportResponse.__table__
    c = m.LabelCorrection.__table__
    ev = m.Event.__table__
    with engine.connect() as conn:
        state = {row.name: row for row in conn.execute(select(table))}
        if any(name not in state for name in _STATE):
            return True
        if state["hours"].text_value != fingerprint(settings.business_hours):
            return True
        if state["timezone"].text_value != settings.business_hours.timezone:
            return True
        if state["sla"].text_value != sla_fingerprint(settings.sla):
            return True
        unrolled = (
            select(t.c.id)
            .select_from(t.outerjoin(r, r.c.mention_id == t.c.id))
            .where(t.c.first_response_at.is_not(None), r.c.mention_id.is_(None))
        )
        since = state["responses"].at
        if since is not None:
            unrolled = unrolled.where(t.c.first_response_at >= since - RESPONSE_MARGIN)
        newest = conn.execute(
            select(
                select(func.max(t.c.id)).scalar_subquery(),
                select(func.max(ev.c.id)).scalar_subquery(),
                select(func.max(c.c.id)).scalar_subquery(),
                unrolled.exists(),
            )
        ).one()
    mention_id, event_id, correction_id, responses = newest
    return (
        (mention_id or 0) > min(state["mentions"].int_value or 0, state["complaints"].int_value or 0)
        or (event_id or 0) > (state["events"].int_value or 0)
        or (correction_id or 0) > (state["corrections"].int_value or 0)
        or bool(responses)
    )


def _lock(conn: Connection) -> dict[str, Any]:
    """Take the roll-up lock (a row write) and read the state under it."""
    table = m.ReportState.__table__
    conn.execute(update(table).where(table.c.name == "lock").values(int_value=table.c.int_value + 1))
    return {r.name: r for r in conn.execute(select(table))}


def _set(conn: Connection, name: str, **values: Any) -> None:
    table = m.ReportState.__table__
    conn.execute(update(table).where(table.c.name == name).values(**values))


def _redo_days_if_zone_changed(engine: Engine, settings: RollupSettings) -> None:
    """Days are local to the business time zone: another zone regroups them from the hours."""
    zone = settings.business_hours.timezone
    with engine.begin() as conn:
        state = _lock(conn)
        if state["timezone"].text_value == zone:
            return
        conn.execute(m.ReportDaily.__table__.delete())
        h = m.ReportHourly.__table__
        rows = conn.execute(
            select(
                h.c.platform,
                h.c.hour,
                h.c.label,
                func.sum(h.c.n),
                func.sum(h.c.polarity_sum),
                func.sum(h.c.polarity_n),
                func.sum(h.c.negative_n),
            ).group_by(h.c.platform, h.c.hour, h.c.label)
        )
        local = _LocalDay(zone)
        daily: dict[tuple[str, date, str], list[float]] = {}
        for platform, hour, label, n, ps, pn, neg in rows:
            v = daily.setdefault((platform, local(hour), label), [0, 0.0, 0, 0])
            v[0] += n
            v[1] += ps
            v[2] += pn
            v[3] += neg
        _add_daily(conn, daily)
        _set(conn, "timezone", text_value=zone)


def _retime_if_hours_changed(engine: Engine, settings: RollupSettings) -> bool:
    stamp = fingerprint(settings.business_hours)
    with engine.begin() as conn:
        state = _lock(conn)
        if state["hours"].text_value == stamp:
            return False
        had = state["hours"].text_value is not None
        # Response times depend on the hours: drop them and read every first response again.
        conn.execute(m.ReportResponse.__table__.delete())
        conn.execute(m.ReportResponseDaily.__table__.delete())
        _set(conn, "responses", at=None)
        _set(conn, "hours", text_value=stamp)
    if had:
        log.info("business hours changed: response times are computed again for the reports")
    return had


# -- upserts ----------------------------------------------------------------------------------


def _add_hourly(conn: Connection, deltas: dict[tuple[str, str, datetime, str], list[float]]) -> None:
    if not deltas:
        return
    table = m.ReportHourly.__table__
    insert = insert_for(conn)
    rows = [
        {
            "platform": p,
            "source": s,
            "hour": h,
            "label": lab,
            "n": int(v[0]),
            "polarity_sum": v[1],
            "polarity_n": int(v[2]),
            "negative_n": int(v[3]),
        }
        for (p, s, h, lab), v in deltas.items()
    ]
    stmt = insert(table)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform", "source", "hour", "label"],
        set_={
            "n": table.c.n + ex.n,
            "polarity_sum": table.c.polarity_sum + ex.polarity_sum,
            "polarity_n": table.c.polarity_n + ex.polarity_n,
            "negative_n": table.c.negative_n + ex.negative_n,
        },
    )
    conn.execute(stmt, rows)


class _LocalDay:
    """UTC hour -> local date in the business time zone (cached: a batch spans few hours)."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.cache: dict[datetime, date] = {}

    def __call__(self, hour: datetime) -> date:
        day = self.cache.get(hour)
        if day is None:
            day = self.cache[hour] = hour.astimezone(self.zone).date()
        return day


def _add_daily(conn: Connection, deltas: dict[tuple[str, date, str], list[float]]) -> None:
    if not deltas:
        return
    table = m.ReportDaily.__table__
    insert = insert_for(conn)
    rows = [
        {
            "platform": p,
            "day": d,
            "label": lab,
            "n": int(v[0]),
            "polarity_sum": v[1],
            "polarity_n": int(v[2]),
            "negative_n": int(v[3]),
        }
        for (p, d, lab), v in deltas.items()
    ]
    stmt = insert(table)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform", "day", "label"],
        set_={
            "n": table.c.n + ex.n,
            "polarity_sum": table.c.polarity_sum + ex.polarity_sum,
            "polarity_n": table.c.polarity_n + ex.polarity_n,
            "negative_n": table.c.negative_n + ex.negative_n,
        },
    )
    conn.execute(stmt, rows)


def _add_topics(conn: Connection, deltas: dict[tuple[datetime, str, str], int]) -> None:
    rows = [{"day": d, "platform": p, "phrase": ph, "n": n} for (d, p, ph), n in deltas.items() if n]
    if not rows:
        return
    table = m.ReportTopic.__table__
    insert = insert_for(conn)
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "platform", "phrase"], set_={"n": table.c.n + stmt.excluded.n}
    )
    conn.execute(stmt, rows)


class _Tally:
    """Deltas for the hourly and daily roll-ups of one batch."""

    def __init__(self, zone: str) -> None:
        self.hourly: dict[tuple[str, str, datetime, str], list[float]] = {}
        self.daily: dict[tuple[str, date, str], list[float]] = {}
        self.local = _LocalDay(zone)

    def count(self, row: Any, label: str | None, sign: int) -> None:
        hour = hour_of(row.created_at)
        label = label or "unscored"
        for v in (
            self.hourly.setdefault((row.platform, row.source, hour, label), [0, 0.0, 0, 0]),
            self.daily.setdefault((row.platform, self.local(hour), label), [0, 0.0, 0, 0]),
        ):
            v[0] += sign
            if row.polarity is not None:
                v[1] += sign * row.polarity
                v[2] += sign
                if row.polarity < 0:
                    v[3] += sign

    def save(self, conn: Connection) -> None:
        _add_hourly(conn, self.hourly)
        _add_daily(conn, self.daily)


def _phrases(
    topics: dict[tuple[datetime, str, str], int], row: Any, sign: int, settings: RollupSettings
) -> None:
    day = day_of(row.created_at)
    for phrase in key_phrases(row.text, settings.brand_terms):
        # Per platform, and every platform together (ALL_PLATFORMS: what the unfiltered report reads).
        for key in ((day, row.platform, phrase), (day, ALL_PLATFORMS, phrase)):
            topics[key] = topics.get(key, 0) + sign


# -- new mentions -----------------------------------------------------------------------------


def _mentions(conn: Connection, state: dict[str, Any], batch: int, settings: RollupSettings) -> int:
    t = m.Mention.__table__
    last = int(state["mentions"].int_value or 0)
    rows = conn.execute(
        select(
            t.c.id,
            t.c.platform,
            t.c.source,
            t.c.created_at,
            t.c.label,
            t.c.polarity,
            t.c.text,
            t.c.author_handle,
        )
        .where(t.c.id > last)
        .order_by(t.c.id)
        .limit(batch)
    ).all()
    if not rows:
        return 0
    tally = _Tally(settings.business_hours.timezone)
    topics: dict[tuple[datetime, str, str], int] = {}
    for row in rows:
        tally.count(row, row.label, +1)
        if row.label == "complaint":
            _phrases(topics, row, +1, settings)
    tally.save(conn)
    _add_topics(conn, topics)
    _link_next_mentions(conn, rows, settings)
    _set(conn, "mentions", int_value=rows[-1].id)
    return len(rows)


def _link_next_mentions(conn: Connection, rows: Iterable[Any], settings: RollupSettings) -> None:
    """A new mention by an author we replied to earlier is the 'next mention' of that reply."""
    r = m.ReportResponse.__table__
    by_author: dict[tuple[str, str], list[Any]] = defaultdict(list)
    touched: set[datetime] = set()
    for row in rows:
        by_author[(row.platform, row.author_handle)].append(row)
    per_platform: dict[str, list[str]] = defaultdict(list)
    for platform, handle in by_author:
        per_platform[platform].append(handle)
    for platform, handles in per_platform.items():
        for start in range(0, len(handles), 500):
            facts = conn.execute(
                select(r.c.mention_id, r.c.author_handle, r.c.responded_at, r.c.created_at).where(
                    r.c.platform == platform,
                    r.c.author_handle.in_(handles[start : start + 500]),
                    r.c.next_mention_id.is_(None),
                )
            ).all()
            for fact in facts:
                later = [
                    x
                    for x in by_author[(platform, fact.author_handle)]
                    if x.created_at > fact.responded_at and x.id != fact.mention_id
                ]
                if later:
                    nxt = min(later, key=lambda x: (x.created_at, x.id))
                    conn.execute(
                        update(r)
                        .where(r.c.mention_id == fact.mention_id)
                        .values(next_mention_id=nxt.id, next_polarity=nxt.polarity)
                    )
                    touched.add(day_of(fact.created_at))
    if touched:
        _sum_days(conn, settings, touched)


# -- complaints: repeat complainers, open complaints by age ------------------------------------


def _complaints(conn: Connection, state: dict[str, Any], batch: int) -> int:
    """Newly stored mentions (or, after an upgrade, every stored one) into ``report_complaint``."""
    t = m.Mention.__table__
    last = int(state["complaints"].int_value or 0)
    rows = conn.execute(
        select(t.c.id, t.c.platform, t.c.author_handle, t.c.created_at, t.c.label, t.c.status)
        .where(t.c.id > last)
        .order_by(t.c.id)
        .limit(batch)
    ).all()
    if not rows:
        return 0
    complaint_rollup.reconcile(conn, [r for r in rows if r.label == "complaint"], fresh=True)
    _set(conn, "complaints", int_value=rows[-1].id)
    return len(rows)


def _events(conn: Connection, state: dict[str, Any], batch: int) -> int:
    """Mentions named by new audit events (status changes, relabels…): their complaint rows again."""
    ev = m.Event.__table__
    last = int(state["events"].int_value or 0)
    newest = conn.execute(select(func.max(ev.c.id))).scalar() or 0
    if newest <= last:
        return 0
    rows = conn.execute(
        select(ev.c.id, ev.c.mention_id)
        .where(ev.c.id > max(0, last - EVENT_MARGIN))
        .order_by(ev.c.id)
        .limit(batch + EVENT_MARGIN)
    ).all()
    if not rows:
        return 0
    table = m.ReportState.__table__
    done = conn.execute(select(table.c.int_value).where(table.c.name == "complaints")).scalar() or 0
    # A mention not read into report_complaint yet is read as it is then.
    ids = {r.mention_id for r in rows if r.mention_id is not None and r.mention_id <= done}
    if ids:
        complaint_rollup.reconcile(conn, complaint_rollup.mention_rows(conn, ids))
    _set(conn, "events", int_value=max(last, rows[-1].id))
    return sum(1 for r in rows if r.id > last)


# -- label corrections ------------------------------------------------------------------------


def _corrections(conn: Connection, state: dict[str, Any], batch: int, settings: RollupSettings) -> int:
    c = m.LabelCorrection.__table__
    t = m.Mention.__table__
    last = int(state["corrections"].int_value or 0)
    rolled = int(state["mentions"].int_value or 0)
    rows = conn.execute(
        select(
            c.c.id.label("cid"),
            c.c.mention_id,
            c.c.predicted,
            c.c.corrected,
            t.c.platform,
            t.c.source,
            t.c.created_at,
            t.c.polarity,
            t.c.text,
        )
        .select_from(c.join(t, t.c.id == c.c.mention_id))
        .where(c.c.id > last)
        .order_by(c.c.id)
        .limit(batch)
    ).all()
    if not rows:
        return 0
    tally = _Tally(settings.business_hours.timezone)
    topics: dict[tuple[datetime, str, str], int] = {}
    for row in rows:
        # A mention not rolled up yet will be counted with its corrected label anyway.
        if row.mention_id > rolled or row.predicted == row.corrected:
            continue
        tally.count(row, row.predicted, -1)
        tally.count(row, row.corrected, +1)
        if row.predicted == "complaint":
            _phrases(topics, row, -1, settings)
        if row.corrected == "complaint":
            _phrases(topics, row, +1, settings)
    tally.save(conn)
    _add_topics(conn, topics)
    _set(conn, "corrections", int_value=rows[-1].cid)
    return len(rows)


# -- first responses --------------------------------------------------------------------------


def _responses(conn: Connection, state: dict[str, Any], batch: int, settings: RollupSettings) -> int:
    t = m.Mention.__table__
    r = m.ReportResponse.__table__
    since: datetime | None = state["responses"].at
    # The person whose confirmed reply stopped the clock; before the responder existed, the assignee.
    responder = func.coalesce(t.c.first_responder, t.c.assignee) if "first_responder" in t.c else t.c.assignee
    q = (
        select(
            t.c.id,
            t.c.platform,
            t.c.author_handle,
            t.c.created_at,
            t.c.first_response_at,
            responder.label("responder"),
            t.c.priority,
            t.c.label,
            t.c.polarity,
        )
        .select_from(t.outerjoin(r, r.c.mention_id == t.c.id))
        .where(t.c.first_response_at.is_not(None), r.c.mention_id.is_(None))
        .order_by(t.c.first_response_at, t.c.id)
        .limit(batch)
    )
    if since is not None:
        q = q.where(t.c.first_response_at >= since - RESPONSE_MARGIN)
    rows = conn.execute(q).all()
    if not rows:
        return 0
    facts = []
    for row in rows:
        facts.append(
            {
                "mention_id": row.id,
                "platform": row.platform,
                "author_handle": row.author_handle,
                "created_at": row.created_at,
                "responded_at": row.first_response_at,
                "responder": row.responder,
                "priority": row.priority,
                "label": row.label,
                "polarity": row.polarity,
                "wall_seconds": max(0.0, (row.first_response_at - row.created_at).total_seconds()),
                "business_seconds": business_seconds(
                    row.created_at, row.first_response_at, settings.business_hours
                ),
                "next_mention_id": None,
                "next_polarity": None,
            }
        )
    insert = insert_for(conn)
    conn.execute(insert(r).on_conflict_do_nothing(index_elements=["mention_id"]), facts)
    _link_after_responses(conn, [f["mention_id"] for f in facts])
    _sum_days(conn, settings, {day_of(f["created_at"]) for f in facts})
    newest = max(row.first_response_at for row in rows)
    if since is None or newest > since:
        _set(conn, "responses", at=newest)
    return len(rows)


def _link_after_responses(conn: Connection, ids: list[int]) -> None:
    """Each new fact's 'next mention': the author's first mention posted after the response.

    One UPDATE with a correlated subquery per chunk: the database walks the author index
    itself (a round trip per response was the slowest part of a large catch-up).
    """
    t = m.Mention.__table__
    r = m.ReportResponse.__table__
    nxt = t.alias("nxt")
    following = (
        select(nxt.c.id)
        .where(
            nxt.c.platform == r.c.platform,
            nxt.c.author_handle == r.c.author_handle,
            nxt.c.created_at > r.c.responded_at,
            nxt.c.id != r.c.mention_id,
        )
        .order_by(nxt.c.created_at, nxt.c.id)
        .limit(1)
        .scalar_subquery()
    )
    polarity = select(nxt.c.polarity).where(nxt.c.id == r.c.next_mention_id).scalar_subquery()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        conn.execute(update(r).where(r.c.mention_id.in_(chunk)).values(next_mention_id=following))
        conn.execute(
            update(r)
            .where(r.c.mention_id.in_(chunk), r.c.next_mention_id.is_not(None))
            .values(next_polarity=polarity)
        )


# -- responses per day ------------------------------------------------------------------------


def _resum_if_sla_changed(engine: Engine, settings: RollupSettings) -> None:
    """``met_*`` depend on the SLA minutes: new minutes sum every day again (from the facts)."""
    stamp = sla_fingerprint(settings.sla)
    r = m.ReportResponse.__table__
    with engine.begin() as conn:
        state = _lock(conn)
        if state["sla"].text_value == stamp:
            return
        conn.execute(m.ReportResponseDaily.__table__.delete())
        first, last = conn.execute(select(func.min(r.c.created_at), func.max(r.c.created_at))).one()
        if first is not None:
            days = set()
            day = day_of(first)
            while day <= last:
                days.add(day)
                day += timedelta(days=1)
            _sum_days(conn, settings, days)
        _set(conn, "sla", text_value=stamp)


def _sum_days(conn: Connection, settings: RollupSettings, days: set[datetime]) -> None:
    """Recompute ``report_response_daily`` for these UTC days from ``report_response``."""
    r = m.ReportResponse.__table__
    d = m.ReportResponseDaily.__table__
    sla = settings.sla
    limit = case(
        (r.c.priority == "P1", literal(sla.p1_minutes * 60)),
        (r.c.priority == "P2", literal(sla.p2_minutes * 60)),
        else_=literal(sla.p3_minutes * 60),
    )

    def within(col: Any, bound: Any) -> Any:
        return func.sum(case((col <= bound, 1), else_=0))

    negative = or_(r.c.label == "complaint", r.c.polarity < 0)
    followed = negative & r.c.next_polarity.is_not(None) & r.c.polarity.is_not(None)
    responder = func.coalesce(r.c.responder, "")
    priority = func.coalesce(r.c.priority, "")
    cols = [c.name for c in d.columns]
    for day in sorted(days):
        conn.execute(d.delete().where(d.c.day == day))
        sel = (
            select(
                literal(day, UTCDateTime()),
                r.c.platform,
                responder,
                priority,
                func.count(),
                *[within(r.c.business_seconds, s) for s in WITHIN_SECONDS],
                within(r.c.business_seconds, limit),
                func.sum(r.c.business_seconds),
                *[within(r.c.wall_seconds, s) for s in WITHIN_SECONDS],
                within(r.c.wall_seconds, limit),
                func.sum(r.c.wall_seconds),
                func.sum(case((negative, 1), else_=0)),
                func.sum(case((followed, 1), else_=0)),
                func.sum(case((followed & (r.c.next_polarity > r.c.polarity), 1), else_=0)),
            )
            .where(r.c.created_at >= day, r.c.created_at < day + timedelta(days=1))
            .group_by(r.c.platform, responder, priority)
        )
        conn.execute(d.insert().from_select(cols, sel))
