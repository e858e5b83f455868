"""What the ``alerts`` and ``test-alert`` subcommands do, as functions the CLI wires up.

``list_alerts`` shows the ledger: each alert with one row per destination, its
status, attempts and when it was delivered — the answer to "which chat targets
got alert #123, and when?". ``send_test_alert`` sends a sample alert through a
route's real targets and reports each target's Apprise outcome.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from monitor.alerts import delivery
    from monitor.config import Config
    from monitor.store import models as m

# SQLAlchemy, the models and Apprise load inside the functions that use them: the CLI builds
# its parser (add_arguments) for every command, including --version.

STATUSES = ("pending", "sending", "failed", "delivered", "unknown", "gave_up")


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One (alert, destination) line of the ledger."""

    alert_id: int
    kind: str
    route: str
    priority: str | None
    mention_id: int | None
    title: str | None
    created_at: datetime
    delivery_id: int
    destination: str
    label: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    log: list[dict[str, Any]]


def list_alerts(
    engine: Engine, status: str | None = None, limit: int = 50, alert_id: int | None = None
) -> list[AlertRow]:
    """Newest alerts first, one row per destination; filter by delivery ``status`` or one alert."""
    from sqlalchemy import select

    from monitor.store import models as m

    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    a = m.AlertOutbox.__table__
    d = m.AlertDelivery.__table__
    q = (
        select(
            a.c.id,
            a.c.kind,
            a.c.route,
            a.c.priority,
            a.c.mention_id,
            a.c.title,
            a.c.created_at,
            d.c.id,
            d.c.destination,
            d.c.destination_label,
            d.c.status,
            d.c.attempts,
            d.c.next_attempt_at,
            d.c.delivered_at,
            d.c.last_error,
            d.c.log,
        )
        .select_from(a.join(d, d.c.alert_id == a.c.id))
        .order_by(a.c.id.desc(), d.c.id)
        .limit(limit)
    )
    if status is not None:
        q = q.where(d.c.status == status)
    if alert_id is not None:
        q = q.where(a.c.id == alert_id)
    with engine.connect() as conn:
        return [AlertRow(*row) for row in conn.execute(q)]


@dataclass(frozen=True, slots=True)
class TargetResult:
    destination: str
    label: str
    outcome: delivery.Outcome


def sample_mention(now: datetime) -> m.Mention:
    """A made-up P1 complaint, including the strings a hostile post would use."""
    from monitor.store import models as m

    return m.Mention(
        id=0,
        platform="test",
        external_id="test",
        source="test-alert",
        url="https://example.com/post/1",
        author_handle="sample_customer",
        author_name="Sample Customer",
        author_followers=48_200,
        text=(
            "This is a TEST alert from mention-monitor. You charged me twice and support is not answering! "
            "(Sample of hostile text that must stay inert: @everyone <!channel> <@&123> [click](https://x.test))"
        ),
        created_at=now,
        fetched_at=now,
        label="complaint",
        urgency=95,
        priority="P1",
        reasons=["negative −0.82", "48k followers", "'charged twice'"],
    )


def send_test_alert(config: Config, route_name: str, *, now: datetime | None = None) -> list[TargetResult]:
    """Send a sample alert to every target of ``route_name`` (or ``operators``); one result per target."""
    from monitor.alerts import delivery, outbox
    from monitor.alerts.compose import mention_message

    by_route = outbox.route_destinations(config.alerts)
    if route_name not in by_route:
        known = ", ".join(sorted(by_route))
        raise ValueError(f"no route named {route_name!r}; known routes: {known}")
    targets = by_route[route_name]
    if not targets:
        raise ValueError(f"route {route_name!r} has no targets (for operators, set alerts.operators)")
    at = now or datetime.now(UTC)
    message = mention_message(sample_mention(at), now=at, sla=config.alerts.sla)
    return [
        TargetResult(
            d.id,
            d.label,
            delivery.send(
                d, message, timeout=config.alerts.send_timeout, quote_limit=config.alerts.text_limit
            ),
        )
        for d in targets
    ]


# ----------------------------------------------------------------------------- CLI wiring


def add_arguments(sub: Any) -> None:
    """Add ``alerts`` and ``test-alert`` parsers to an argparse subparsers object."""
    p = sub.add_parser("alerts", help="the alert ledger: which targets got which alert, and when")
    p.add_argument("--status", choices=STATUSES, help="only deliveries in this state")
    p.add_argument("--alert", type=int, help="only this alert id")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--log", action="store_true", help="show every attempt")
    p = sub.add_parser("test-alert", help="send a sample alert through a route's targets")
    # 'operators' is alerts.settings.OPERATORS_ROUTE, written out: importing the settings (pydantic)
    # here would slow every command's start-up.
    p.add_argument("route", help="route name from alerts.routes, or 'operators'")


def format_rows(rows: list[AlertRow], *, now: datetime, show_log: bool = False) -> list[str]:
    """Plain lines for a terminal (the CLI may render them as a table instead)."""
    lines = []
    for r in rows:
        when = f"delivered {r.delivered_at:%Y-%m-%d %H:%M:%S}" if r.delivered_at else ""
        if r.status == "failed" and r.next_attempt_at:
            when = f"retry in {max(0, int((r.next_attempt_at - now).total_seconds()))} s"
        what = f"mention #{r.mention_id}" if r.mention_id else (r.title or r.kind)
        lines.append(
            f"#{r.alert_id:<5} {r.kind:<10} {r.priority or '-':<3} {r.route:<12} {r.status:<9} "
            f"×{r.attempts} {r.label or r.destination}  {what}  {when}".rstrip()
        )
        if r.last_error and r.status != "delivered":
            lines.append(f"        last error: {r.last_error}")
        if show_log:
            lines.extend(
                f"        {e.get('at', '')} attempt {e.get('attempt', '?')}: "
                f"{e.get('outcome')} {e.get('detail', '')}"
                for e in r.log
            )
    return lines


def handle_alerts(args: argparse.Namespace, engine: Engine) -> int:
    """``mention-monitor alerts``: prints the ledger; exit 0."""
    rows = list_alerts(engine, status=args.status, limit=args.limit, alert_id=args.alert)
    if args.status == "unknown":
        # What became of ambiguous sends: re-sent once (P1/P2), listed in a digest (P3), or left.
        from monitor.alerts import followup

        with engine.connect() as conn:
            for line in followup.summary(followup.counts(conn, datetime.now(UTC))):
                print(line)
    if not rows:
        print("no alerts" + (f" with status {args.status}" if args.status else ""))
        return 0
    for line in format_rows(rows, now=datetime.now(UTC), show_log=args.log):
        print(line)
    return 0


def handle_test_alert(args: argparse.Namespace, config: Config) -> int:
    """``mention-monitor test-alert ROUTE``: exit 0 when every target accepted it, else 1."""
    try:
        results = send_test_alert(config, args.route)
    except ValueError as exc:
        print(str(exc))
        return 2
    for r in results:
        print(f"{r.outcome.status:<9} {r.label}  ({r.outcome.apprise_status}: {r.outcome.detail})")
    return 0 if all(r.outcome.status == "delivered" for r in results) else 1
