"""Operator alerts: the monitor tells its operators when it is broken, instead of going quiet.

Four checks, each to the ``alerts.operators`` targets and repeated at most every
``operator_checks.repeat_minutes`` while the problem lasts:

* a source unhealthy (rate limited, auth failed, degraded…) for ``source_failing_minutes``;
* a notification target failing for ``target_failing_minutes`` (no success since its oldest failure);
* an alert waiting for delivery longer than ``backlog_minutes``;
* more ambiguous (``unknown``) sends in the last hour than ``ambiguous.operator_alert_per_hour``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from monitor.alerts import followup
from monitor.alerts.outbox import RETRYABLE, enqueue
from monitor.alerts.routing import Destination
from monitor.alerts.settings import OPERATORS_ROUTE, AlertSettings
from monitor.store import models as m

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing operators should hear about; ``key`` stays the same while it lasts."""

    key: str
    title: str
    detail: str


def _bucket(since: datetime, now: datetime, repeat_minutes: float) -> int:
    # The same problem gets a new key (a reminder) every repeat_minutes.
    return int((now - since) / timedelta(minutes=repeat_minutes))


def find_problems(conn: Connection, settings: AlertSettings, now: datetime) -> list[Problem]:
    """Everything currently broken for longer than its threshold."""
    checks = settings.operator_checks
    problems: list[Problem] = []
    sc = m.SourceCursor.__table__
    for row in conn.execute(select(sc).where(sc.c.state != "ok")).mappings():
        since = row["state_since"] or row["updated_at"] or now
        if now - since < timedelta(minutes=checks.source_failing_minutes):
            continue
        minutes = int((now - since).total_seconds() // 60)
        problems.append(
            Problem(
                key=f"operator:source:{row['source']}:{since:%Y%m%dT%H%M%S}:"
                f"{_bucket(since, now, checks.repeat_minutes)}",
                title=f"source {row['source']} is {row['state']} for {minutes} min",
                detail=(
                    f"{row['consecutive_failures']} failed poll(s) in a row; last error: "
                    f"{row['last_error'] or 'none recorded'}. Mentions from {row['platform']} are not "
                    "arriving; check its credentials/quota, then `mention-monitor sources`."
                ),
            )
        )
    d = m.AlertDelivery.__table__
    a = m.AlertOutbox.__table__
    last_ok = dict(
        conn.execute(
            select(d.c.destination, func.max(d.c.delivered_at))
            .where(d.c.status == "delivered")
            .group_by(d.c.destination)
        ).all()
    )
    failing = conn.execute(
        select(d.c.destination, d.c.destination_label, func.min(a.c.created_at), func.max(d.c.last_error))
        .select_from(d.join(a, a.c.id == d.c.alert_id))
        .where(d.c.status.in_(("failed", "gave_up")), a.c.route != OPERATORS_ROUTE)
        .group_by(d.c.destination, d.c.destination_label)
    ).all()
    for dest, label, oldest, error in failing:
        ok_at = last_ok.get(dest)
        since = oldest if ok_at is None or oldest > ok_at else ok_at
        if ok_at is not None and ok_at >= now - timedelta(minutes=checks.target_failing_minutes):
            continue  # it delivered something recently: flaky, not down
        if now - since < timedelta(minutes=checks.target_failing_minutes):
            continue
        minutes = int((now - since).total_seconds() // 60)
        problems.append(
            Problem(
                key=f"operator:target:{dest}:{since:%Y%m%dT%H%M%S}:"
                f"{_bucket(since, now, checks.repeat_minutes)}",
                title=f"notification target {label} failing for {minutes} min",
                detail=f"last error: {error}. Alerts to it are retried with backoff; "
                "see `mention-monitor alerts --status failed`.",
            )
        )
    oldest = conn.execute(
        select(func.min(a.c.created_at))
        .select_from(d.join(a, a.c.id == d.c.alert_id))
        .where(d.c.status.in_(RETRYABLE), a.c.route != OPERATORS_ROUTE)
    ).scalar()
    if oldest is not None and now - oldest >= timedelta(minutes=checks.backlog_minutes):
        waiting = conn.execute(
            select(func.count())
            .select_from(d.join(a, a.c.id == d.c.alert_id))
            .where(d.c.status.in_(RETRYABLE), a.c.route != OPERATORS_ROUTE)
        ).scalar_one()
        minutes = int((now - oldest).total_seconds() // 60)
        problems.append(
            Problem(
                key=f"operator:backlog:{oldest.isoformat()}:{_bucket(oldest, now, checks.repeat_minutes)}",
                title=f"{waiting} alert delivery(ies) waiting, oldest {minutes} min",
                detail="Agents are not getting these alerts. Check the failing targets in "
                "`mention-monitor alerts --status failed` and that the daemon's notifier is running.",
            )
        )
    if followup.recent(conn, now) > settings.ambiguous.operator_alert_per_hour:
        ambiguous = followup.counts(conn, now)
        problems.append(
            Problem(
                key=f"operator:ambiguous:{now:%Y%m%dT%H}",
                title=f"{ambiguous.recent} alert send(s) in the last hour may not have arrived",
                detail=(
                    f"A target took the request but did not answer in time, or the notifier was killed "
                    f"mid-send. P1/P2 alerts are re-sent once, marked ({ambiguous.resent} so far, "
                    f"{ambiguous.resend_waiting} waiting); P3 go into the next digest "
                    f"({ambiguous.digest_waiting} waiting). Check the targets' health and "
                    "`mention-monitor alerts --status unknown`."
                ),
            )
        )
    problems.extend(failing_replies(conn, now, checks.repeat_minutes))
    return problems


def failing_replies(conn: Connection, now: datetime, repeat_minutes: float) -> list[Problem]:
    """One problem per platform whose replies failed since its last successful one (responder)."""
    rt = m.ReplyOutbox.__table__
    last_sent = dict(
        conn.execute(
            select(rt.c.platform, func.max(rt.c.sent_at)).where(rt.c.status == "sent").group_by(rt.c.platform)
        ).all()
    )
    out = []
    rows = conn.execute(
        select(rt.c.platform, rt.c.last_attempt_at, rt.c.last_error, rt.c.mention_id)
        .where(rt.c.status.in_(("failed", "unknown")), rt.c.last_attempt_at >= now - RECOVERY_LOOKBACK)
        .order_by(rt.c.last_attempt_at)
    ).all()
    by_platform: dict[str, list[Any]] = {}
    for row in rows:
        ok_at = last_sent.get(row.platform)
        if ok_at is None or row.last_attempt_at > ok_at:
            by_platform.setdefault(row.platform or "unknown", []).append(row)
    for platform, failed in sorted(by_platform.items()):
        since = failed[0].last_attempt_at
        latest = failed[-1]
        bucket = _bucket(since, now, repeat_minutes)
        out.append(
            Problem(
                key=f"operator:replies:{platform}:{since:%Y%m%dT%H%M%S}:{bucket}",
                title=f"replies on {platform} failing: {len(failed)} failed since {since:%H:%M} UTC",
                detail=f"latest (mention #{latest.mention_id}): {latest.last_error or 'no reason recorded'}. "
                "The mentions show 'reply failed'; fix the cause, then see "
                "`mention-monitor replies --status failed` and `replies --retry ID`.",
            )
        )
    return out


# Recovery notices look back this far for problems that were announced.
RECOVERY_LOOKBACK = timedelta(days=7)


def find_recoveries(conn: Connection, now: datetime) -> list[Problem]:
    """Announced source/target problems that are over: one "recovered" notice each.

    Said once when it goes away and once when it comes back (Home Assistant's rule), so
    operators are not left wondering whether the last alert still holds.
    """
    a = m.AlertOutbox.__table__
    announced: dict[str, str] = {}
    for key, title in conn.execute(
        select(a.c.key, a.c.title).where(
            a.c.kind == "operator",
            a.c.created_at >= now - RECOVERY_LOOKBACK,
            a.c.key.like("operator:source:%") | a.c.key.like("operator:target:%"),
        )
    ):
        # "operator:<what>:<name>:<since>:<bucket>" → the problem without its reminder bucket.
        announced.setdefault(key.rsplit(":", 1)[0], title or "")
    if not announced:
        return []
    sc = m.SourceCursor.__table__
    states = {r.source: r.state for r in conn.execute(select(sc.c.source, sc.c.state))}
    d = m.AlertDelivery.__table__
    last_ok: dict[str, datetime] = {}
    labels: dict[str, str] = {}
    for dest, label, ok_at in conn.execute(
        select(d.c.destination, d.c.destination_label, func.max(d.c.delivered_at))
        .where(d.c.status == "delivered")
        .group_by(d.c.destination, d.c.destination_label)
    ):
        last_ok[dest] = max(ok_at, last_ok.get(dest, ok_at))
        labels[dest] = label or dest
    out = []
    for base in sorted(announced):
        _, what, rest = base.split(":", 2)
        name, since_s = rest.rsplit(":", 1)
        since = datetime.strptime(since_s, "%Y%m%dT%H%M%S").replace(tzinfo=now.tzinfo)
        if what == "source":
            if states.get(name, "ok") != "ok":
                continue
            title = f"source {name} recovered"
        else:
            ok_at = last_ok.get(name)
            if ok_at is None or ok_at <= since:
                continue
            title = f"notification target {labels.get(name, name)} recovered"
        out.append(
            Problem(
                key=f"operator:recovered:{what}:{name}:{since_s}",
                title=title,
                detail=f"Back to normal after {int((now - since).total_seconds() // 60)} min "
                f"(was: {announced[base]}).",
            )
        )
    return out


def run(
    conn: Connection, settings: AlertSettings, by_route: dict[str, list[Destination]], now: datetime
) -> int:
    """Queue an operator alert for each new problem, reminder or recovery; returns how many were queued."""
    targets = by_route.get(OPERATORS_ROUTE, [])
    queued = 0
    for problem in [*find_problems(conn, settings, now), *find_recoveries(conn, now)]:
        alert_id = enqueue(
            conn,
            key=problem.key[:200],
            kind="operator",
            route=OPERATORS_ROUTE,
            targets=targets,
            now=now,
            title=problem.title,
            body=problem.detail,
        )
        if alert_id:
            queued += 1
            # Logged either way: with no alerts.operators configured, the log is the only channel.
            log.warning("operator alert: %s — %s", problem.title, problem.detail)
    return queued
