"""Business-hours arithmetic across nights, weekends, DST and windows that cross midnight."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.settings import BusinessHours
from monitor.reports.businesshours import add_business, business_seconds, sub_business

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessHours(
    timezone="Europe/Berlin", days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="17:00"
)


def b(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def test_friday_evening_to_monday_morning_counts_only_opening_time():
    # Fri 16:50 -> Mon 09:04: 10 min on Friday + 4 min on Monday.
    assert business_seconds(b(2026, 11, 27, 16, 50), b(2026, 11, 30, 9, 4), OFFICE) == 14 * 60


def test_weekend_and_night_count_nothing():
    assert business_seconds(b(2026, 11, 28, 10, 0), b(2026, 11, 29, 23, 0), OFFICE) == 0
    assert business_seconds(b(2026, 12, 1, 17, 0), b(2026, 12, 2, 9, 0), OFFICE) == 0


def test_saturday_post_answered_monday_afternoon():
    assert business_seconds(b(2026, 11, 28, 10, 0), b(2026, 11, 30, 13, 30), OFFICE) == 4.5 * 3600


def test_whole_week_is_forty_hours_and_end_before_start_is_zero():
    assert business_seconds(b(2026, 11, 30, 0, 0), b(2026, 12, 7, 0, 0), OFFICE) == 40 * 3600
    assert business_seconds(b(2026, 12, 7, 0, 0), b(2026, 11, 30, 0, 0), OFFICE) == 0


def test_dst_change_keeps_local_opening_hours():
    # Sunday 29 March 2026 clocks go forward in Berlin; Friday and Monday still have 8 local hours.
    assert business_seconds(b(2026, 3, 27, 0, 0), b(2026, 3, 31, 0, 0), OFFICE) == 16 * 3600
    # Monday after the change opens at 09:00 CEST = 07:00 UTC (it was 08:00 UTC the Friday before).
    assert add_business(datetime(2026, 3, 30, 6, 0, tzinfo=UTC), 60, OFFICE) == datetime(
        2026, 3, 30, 7, 1, tzinfo=UTC
    )
    assert add_business(datetime(2026, 3, 27, 6, 0, tzinfo=UTC), 60, OFFICE) == datetime(
        2026, 3, 27, 8, 1, tzinfo=UTC
    )


def test_night_shift_window_runs_past_midnight():
    nights = BusinessHours(timezone="UTC", days=["mon"], start=time(22, 0), end=time(6, 0))
    # Monday 22:00 -> Tuesday 06:00 is Monday's window; Tuesday night is closed.
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    assert business_seconds(monday, monday + timedelta(days=2), nights) == 8 * 3600
    assert business_seconds(monday + timedelta(hours=23), monday + timedelta(hours=25), nights) == 2 * 3600


def test_deadline_skips_the_weekend():
    # 15 business minutes from Friday 16:50 -> Monday 09:05.
    assert add_business(b(2026, 11, 27, 16, 50), 15 * 60, OFFICE) == b(2026, 11, 30, 9, 5)
    # 24 business hours (the P3 target) from Tuesday 10:00 -> Friday 10:00.
    assert add_business(b(2026, 12, 1, 10, 0), 24 * 3600, OFFICE) == b(2026, 12, 4, 10, 0)


@pytest.mark.parametrize(
    "end",
    [
        b(2026, 11, 30, 9, 5),  # inside a window
        b(2026, 11, 29, 12, 0),  # on a Sunday
        b(2026, 12, 3, 10, 0),
        b(2026, 12, 2, 17, 0),  # at closing time
    ],
)
def test_sub_business_is_the_latest_start_whose_deadline_has_passed(end):
    cutoff = sub_business(end, 15 * 60, OFFICE)
    assert cutoff is not None
    assert add_business(cutoff, 15 * 60, OFFICE) <= end
    later = cutoff + timedelta(minutes=1)
    assert add_business(later, 15 * 60, OFFICE) > end


def test_no_opening_days_never_opens():
    closed = BusinessHours(timezone="UTC", days=[])
    assert business_seconds(b(2026, 11, 27, 0, 0), b(2026, 12, 27, 0, 0), closed) == 0
    assert add_business(b(2026, 11, 27, 0, 0), 60, closed) is None
    assert sub_business(b(2026, 11, 27, 0, 0), 60, closed) is None
