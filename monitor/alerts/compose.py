"""What each kind of alert says: mention, escalation, incident, digest, operator — pure builders.

Each builder takes stored rows as values plus ``now`` and returns a
:class:`~monitor.alerts.message.Message`; the notifier renders it per target at
send time, so "posted 4 min ago" and the SLA countdown are true when it lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.alerts import sla as sla_math
from monitor.alerts.message import Line, Message, Span, plain, untrusted
from monitor.alerts.settings import SLASettings
from monitor.store import models as m

# Apprise's notify type colours the alert (Slack/Discord bar, icon) and some services print it
# ("[!]"): "failure" is kept for the monitor's own problems, so a complaint never reads as one.
_PRIORITY_TYPE = {"P1": "warning", "P2": "info", "P3": "info"}


def followers(n: int | None) -> str:
    """``48.2k followers``; empty when the platform did not say."""
    if n is None:
        return ""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M followers"
    if n >= 10_000:
        return f"{n / 1000:.0f}k followers"
    if n >= 1000:
        return f"{n / 1000:.1f}k followers"
    return f"{n} follower{'s' if n != 1 else ''}"


def _author_line(mention: m.Mention) -> Line:
    spans: list[Span] = [untrusted(f"@{mention.author_handle.lstrip('@')}", "bold")]
    if mention.author_name:
        spans += [plain(" ("), untrusted(mention.author_name), plain(")")]
    reach = followers(mention.author_followers)
    if reach:
        spans.append(plain(f" · {reach}"))
    return tuple(spans)


def _severity_line(severity: str, reasons: list | None) -> Line:
    """``Severity: severe · accuses the brand of fraud (“fraud”)``: the level and its strongest reason."""
    from monitor.triage.severity import severity_reasons  # loaded at send time, not by the CLI

    top = severity_reasons(reasons)
    line: list[Span] = [Span(f"Severity: {severity}", "bold")]
    if top:
        line += [plain(" · "), untrusted(top[0])]
    return tuple(line)


def mention_message(
    mention: m.Mention,
    *,
    now: datetime,
    sla: SLASettings,
    ack_link: str | None = None,
    dashboard_link: str | None = None,
    escalation: bool = False,
    incident_id: int | None = None,
    claim_link: str | None = None,
) -> Message:
    """The alert for one mention: who, what, why urgent, how long ago, SLA, links."""
    priority = mention.priority or "P3"
    prefix = "ESCALATED · " if escalation else ""
    severity = getattr(mention, "severity", None)
    kind = f"{severity} {mention.label or 'mention'}" if severity else mention.label or "mention"
    title = (
        plain(f"{prefix}{priority} {kind} on {mention.platform} ·"),
        untrusted(f"@{mention.author_handle.lstrip('@')}"),
    )
    due = sla_math.deadline(mention.created_at, mention.priority, sla)
    lines: list[Line] = [_author_line(mention)]
    if escalation:
        lines.insert(
            0,
            (Span(f"Not acknowledged within the {priority} SLA — please take it now.", "bold"),),
        )
    if severity:
        lines.append(_severity_line(severity, mention.reasons))
    why = ", ".join(str(r) for r in (mention.reasons or []))
    if why:
        lines.append((plain("Why: "), untrusted(why)))
    lines.append(
        (
            plain(
                f"Posted {sla_math.ago(now - mention.created_at)} ago · "
                f"reply due {due:%H:%M} UTC ({sla_math.due_in(due, now)})"
            ),
        )
    )
    if incident_id is not None:
        lines.append((plain(f"Part of incident #{incident_id}."),))
    claimed_by = getattr(mention, "claimed_by", None)
    if claimed_by:
        lines.append((plain("Claimed by "), untrusted(claimed_by), plain(" — they are answering it.")))
    links: list[Span] = []
    if mention.url:
        links.append(Span("Open post", "link", url=mention.url))
    if ack_link:
        links += (
            [plain(" · "), Span("Acknowledge", "link", url=ack_link)]
            if links
            else [Span("Acknowledge", "link", url=ack_link)]
        )
    if claim_link and not claimed_by:
        links += [plain(" · ")] if links else []
        links.append(Span("Claim", "link", url=claim_link))
    if dashboard_link:
        links += [plain(" · "), Span(f"Mention #{mention.id}", "link", url=dashboard_link)]
    else:
        links += [plain(f"{' · ' if links else ''}mention #{mention.id}")]
    return Message(
        title=title,
        lines=tuple(lines),
        quote=mention.text,
        quote_after=1 + int(escalation),
        notify_type="warning" if escalation else _PRIORITY_TYPE.get(priority, "info"),  # type: ignore[arg-type]
        tail=(tuple(links),),
    )


@dataclass(frozen=True, slots=True)
class IncidentView:
    """What an incident alert shows; built by :mod:`monitor.alerts.incidents` from the stored rows."""

    id: int
    platform: str
    term: str | None
    count: int
    opened_at: datetime
    last_seen_at: datetime
    status: str
    samples: Sequence[m.Mention]
    top_authors: Sequence[tuple[str, int | None]]
    sentiment: Sequence[float]  # mean polarity per window, oldest first


def incident_message(view: IncidentView, *, now: datetime, update: bool) -> Message:
    """One alert for a storm of similar complaints; updates carry the live count."""
    what = f"“{view.term}”" if view.term else "complaints"
    state = "update" if update else "new"
    title = (plain(f"Incident #{view.id} ({state}) · {view.count} {what} on {view.platform}"),)
    lines: list[Line] = [
        (
            Span(f"{view.count} mentions", "bold"),
            plain(
                f" since {view.opened_at:%H:%M} UTC ({sla_math.ago(now - view.opened_at)} ago),"
                f" last {sla_math.ago(now - view.last_seen_at)} ago · {view.status}"
            ),
        )
    ]
    if view.sentiment:
        trend = " → ".join(f"{s:+.2f}" for s in view.sentiment[-6:])
        lines.append((plain(f"Sentiment trend: {trend}"),))
    if view.top_authors:
        spans: list[Span] = [plain("Highest reach: ")]
        for i, (handle, n) in enumerate(view.top_authors):
            if i:
                spans.append(plain(", "))
            spans.append(untrusted(f"@{handle.lstrip('@')}"))
            if n is not None:
                spans.append(plain(f" ({followers(n)})"))
        lines.append(tuple(spans))
    for sample in view.samples:
        text = sample.text if len(sample.text) <= 200 else sample.text[:199] + "…"
        lines.append((plain("• "), untrusted(f"@{sample.author_handle.lstrip('@')}: {text}")))
    lines.append((plain("Members alert individually only when high-reach or high-severity."),))
    return Message(title=title, lines=tuple(lines), notify_type="warning" if not update else "info")


def operator_message(title: str, detail: str, *, hint: str | None = None) -> Message:
    """An alert about the monitor itself; ``detail`` may hold remote error text, so it is untrusted."""
    lines: list[Line] = [(untrusted(detail),)]
    if hint:
        lines.append((plain(hint),))
    return Message(title=(plain(f"mention-monitor: {title}"),), lines=tuple(lines), notify_type="failure")


@dataclass(frozen=True, slots=True)
class DigestView:
    """A period's summary, computed by :mod:`monitor.alerts.digest`."""

    start: datetime
    end: datetime
    total: int
    by_label: dict[str, int]
    by_platform: dict[str, int]
    mean_polarity: float | None
    held_p3: int
    top: Sequence[m.Mention]


def resent(message: Message, note: str) -> Message:
    """The same alert marked as a possible repeat: the title says so and the first line explains."""
    return replace(
        message,
        title=(plain("RE-SENT ·"), *message.title),
        lines=((Span(note, "bold"),), *message.lines),
        quote_after=message.quote_after + 1,
    )


def digest_message(view: DigestView, *, ambiguous: Sequence[tuple[int | None, str | None]] = ()) -> Message:
    """The hourly/daily summary: volume, sentiment and the top complaints held back from alerting.

    ``ambiguous`` lists P3 alerts whose own send may not have arrived (mention id, title).
    """
    title = (plain(f"Mentions digest {view.start:%Y-%m-%d %H:%M}–{view.end:%H:%M} UTC · {view.total} total"),)
    labels = ", ".join(f"{k} {v}" for k, v in sorted(view.by_label.items(), key=lambda kv: -kv[1])) or "none"
    platforms = ", ".join(f"{k} {v}" for k, v in sorted(view.by_platform.items(), key=lambda kv: -kv[1]))
    lines: list[Line] = [
        (Span("Volume: ", "bold"), plain(f"{view.total} ({labels})")),
    ]
    if platforms:
        lines.append((Span("Platforms: ", "bold"), plain(platforms)))
    if view.mean_polarity is not None:
        lines.append((Span("Sentiment: ", "bold"), plain(f"mean polarity {view.mean_polarity:+.2f}")))
    lines.append((plain(f"{view.held_p3} low-priority (P3) mention(s) were held for this digest."),))
    if view.top:
        lines.append((Span("Top complaints:", "bold"),))
    for mention in view.top:
        text = mention.text if len(mention.text) <= 160 else mention.text[:159] + "…"
        lines.append(
            (
                plain(f"• [{mention.priority or '-'}] "),
                untrusted(f"@{mention.author_handle.lstrip('@')}"),
                plain(f" ({followers(mention.author_followers) or mention.platform}): "),
                untrusted(text),
                plain(f" — #{mention.id}"),
            )
        )
    if ambiguous:
        lines.append((Span(f"{len(ambiguous)} low-priority alert(s) may not have arrived earlier:", "bold"),))
        for mention_id, alert_title in ambiguous:
            lines.append(
                (
                    plain(f"• mention #{mention_id}" if mention_id else "• "),
                    untrusted("" if mention_id else (alert_title or "alert")),
                )
            )
    return Message(title=title, lines=tuple(lines), notify_type="info")


def text_message(title: str, body: str, notify_type: str = "info") -> Message:
    """A free-form alert (test alerts, stored operator text)."""
    return Message(
        title=(plain(title),),
        lines=tuple((untrusted(line),) for line in body.splitlines() if line.strip()),
        notify_type=notify_type,  # type: ignore[arg-type]
    )
