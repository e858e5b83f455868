"""The question every report answers: which period, which platform, timed how — parsed from a form.

A bad value raises :class:`PeriodError` naming the field, so the page can say
which one to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

RANGES = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
DEFAULT_RANGE = "7d"
MAX_SPAN = timedelta(days=400)
_PLATFORM = re.compile(r"^[a-z0-9_-]{1,32}$")


class PeriodError(ValueError):
    """A report parameter that does not parse; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ReportQuery:
    """``[start, end)`` in UTC, an optional platform, and whether response times count business hours."""

    start: datetime
    end: datetime
    platform: str | None = None
    business_hours: bool = True
    range_name: str | None = DEFAULT_RANGE

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def by_day(self) -> bool:
        """Charts bucket by day beyond three days, by hour below."""
        return self.span > timedelta(days=3)


def parse_query(
    *,
    now: datetime,
    range_name: str | None = None,
    start: str | None = None,
    end: str | None = None,
    platform: str | None = None,
    hours: str | None = None,
    timezone: str = "UTC",
) -> ReportQuery:
    """Build a :class:`ReportQuery` from form values (``range=7d`` or ``from``/``to`` dates)."""
    zone = ZoneInfo(timezone)
    platform = (platform or "").strip().lower() or None
    if platform and not _PLATFORM.match(platform):
        raise PeriodError("platform", f"{platform!r} is not a platform name (e.g. mastodon, x, reddit)")
    basis = (hours or "business").strip().lower()
    if basis not in ("business", "all"):
        raise PeriodError("hours", f"{hours!r}: use business (count only business hours) or all")
    if start or end:
        begin = _date("from", start, zone) if start else None
        finish = _date("to", end, zone) + timedelta(days=1) if end else now
        if begin is None:
            begin = finish - RANGES[DEFAULT_RANGE]
        if finish <= begin:
            raise PeriodError("to", "must be on or after the 'from' date")
        if finish - begin > MAX_SPAN:
            raise PeriodError("from", f"a report covers at most {MAX_SPAN.days} days")
        return ReportQuery(begin, finish, platform, basis == "business", None)
    name = (range_name or DEFAULT_RANGE).strip()
    if name not in RANGES:
        raise PeriodError("range", f"{name!r}: use one of {', '.join(RANGES)} or from/to dates")
    return ReportQuery(now - RANGES[name], now, platform, basis == "business", name)


def _date(field: str, value: str, zone: ZoneInfo) -> datetime:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise PeriodError(field, f"{value!r} is not a date; use YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
