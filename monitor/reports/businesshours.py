"""Business-hours arithmetic for SLA reports: how much opening time lies between two instants.

Pure and timezone-aware: the opening window of each configured weekday is laid
out in the configured zone (so 09:00–17:00 Europe/Berlin stays 09:00–17:00
across a DST change) and intersected with the UTC span asked about. A window
whose end is not after its start (22:00–06:00) runs into the next day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.alerts.settings import BusinessHours

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A response later than this is "very late" anyway; the walk over days stops here.
_HORIZON_DAYS = 400


def fingerprint(hours: BusinessHours) -> str:
    """A short text that changes whenever the business hours do (stored figures then go stale)."""
    return f"{hours.timezone}|{','.join(hours.days)}|{hours.start.isoformat()}|{hours.end.isoformat()}"


def _windows(hours: BusinessHours, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
    """Opening windows (aware, in the business zone) of the local days ``first``..``last``."""
    zone = ZoneInfo(hours.timezone)
    open_days = {_DAYS.index(d) for d in hours.days}
    day = first
    while day <= last:
        if day.weekday() in open_days:
            start = datetime.combine(day, hours.start, tzinfo=zone)
            end_day = day if hours.end > hours.start else day + timedelta(days=1)
            end = datetime.combine(end_day, hours.end, tzinfo=zone)
            yield start, end
        day += timedelta(days=1)


def business_seconds(start: datetime, end: datetime, hours: BusinessHours) -> float:
    """Seconds of opening time in ``[start, end)``; 0 when ``end`` is not after ``start``."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(hours.timezone)
    first = start.astimezone(zone).date() - timedelta(days=1)  # a window from the day before may run on
    last = min(end.astimezone(zone).date(), first + timedelta(days=_HORIZON_DAYS))
    total = 0.0
    for w_start, w_end in _windows(hours, first, last):
        lo = max(w_start, start)
        hi = min(w_end, end)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def add_business(start: datetime, seconds: float, hours: BusinessHours) -> datetime | None:
    """The instant when ``seconds`` of opening time have passed since ``start`` (the SLA deadline).

    None when the business hours never open (no days configured).
    """
    if not hours.days:
        return None
    zone = ZoneInfo(hours.timezone)
    left = seconds
    first = start.astimezone(zone).date() - timedelta(days=1)
    for w_start, w_end in _windows(hours, first, first + timedelta(days=_HORIZON_DAYS)):
        lo = max(w_start, start)
        if w_end <= lo:
            continue
        available = (w_end - lo).total_seconds()
        if available >= left:
            return (lo + timedelta(seconds=left)).astimezone(start.tzinfo)
        left -= available
    return None


def sub_business(end: datetime, seconds: float, hours: BusinessHours) -> datetime | None:
    """The latest start whose deadline (``add_business(start, seconds)``) is at or before ``end``.

    Every mention posted up to this instant is overdue at ``end`` if still unanswered.
    """
    if not hours.days:
        return None
    zone = ZoneInfo(hours.timezone)
    left = seconds
    last = end.astimezone(zone).date()
    # Walk back a week at a time (a deadline is rarely more than a few days of opening hours).
    for week in range(0, _HORIZON_DAYS, 7):
        hi_day = last - timedelta(days=week)
        windows = [w for w in _windows(hours, hi_day - timedelta(days=6), hi_day) if w[0] < end]
        for w_start, w_end in reversed(windows):
            hi = min(w_end, end)
            available = (hi - w_start).total_seconds()
            if available >= left:
                return (hi - timedelta(seconds=left)).astimezone(end.tzinfo)
            left -= available
    return None
