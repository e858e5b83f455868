"""SLA arithmetic: deadlines, what is overdue, and how to say "4 min ago" — pure, pass ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.alerts.settings import SLASettings


def deadline(posted_at: datetime, priority: str | None, sla: SLASettings) -> datetime:
    """When the first response is due: the SLA clock starts when the author posted."""
    return posted_at + timedelta(minutes=sla.minutes_for(priority))


def overdue(
    posted_at: datetime,
    priority: str | None,
    sla: SLASettings,
    now: datetime,
    *,
    acknowledged: bool,
) -> bool:
    """True when nobody acknowledged the mention and its SLA deadline has passed."""
    return not acknowledged and now >= deadline(posted_at, priority, sla)


def ago(delta: timedelta) -> str:
    """A short human duration: ``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def due_in(due: datetime, now: datetime) -> str:
    """``in 12 min`` or ``overdue by 3 min``."""
    delta = due - now
    if delta.total_seconds() >= 0:
        return f"in {ago(delta)}"
    return f"overdue by {ago(delta)}"
