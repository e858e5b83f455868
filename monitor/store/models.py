"""The tables: mentions, authors, source cursors and health, outboxes, audit log.

Every timestamp is UTC. Status values and their meaning live here so the CLI,
chat links and the dashboard share one definition.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, Text, UniqueConstraint, false
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from monitor.store.types import JSONType, UTCDateTime

MENTION_STATUSES = ("new", "acknowledged", "replied", "resolved", "ignored")
SOURCE_STATES = ("ok", "degraded", "rate_limited", "budget_spent", "auth_failed")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed", "unknown", "gave_up")
REPLY_STATUSES = ("draft", "pending", "sending", "sent", "failed", "unknown", "cancelled")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), index=index, nullable=nullable))


def _json(default: Any) -> Any:
    # The column default matters for Core inserts, which skip SQLModel's default_factory.
    column = Column(JSONType, nullable=False, default=lambda: default())
    return Field(default_factory=default, sa_column=column)


class Mention(SQLModel, table=True):
    """A stored mention with its triage result and where it is in the support workflow."""

    __tablename__ = "mention"
    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_mention_platform_external_id"),
        Index("ix_mention_status_created", "status", "created_at"),
        Index("ix_mention_priority_created", "priority", "created_at"),
        # The storm detector counts complaints per platform in a sliding window.
        Index("ix_mention_platform_label_created", "platform", "label", "created_at"),
        Index("ix_mention_platform_created", "platform", "created_at"),
        # The thread on a mention page, in time order (migration 0011; was platform, conversation_id).
        Index("ix_mention_conversation_created", "platform", "conversation_id", "created_at"),
        # reports (migration 0008): open complaints by age, repeat complainers, responses to roll up,
        # and mentions still waiting for a first response (partial: only the unanswered ones).
        Index("ix_mention_label_status_created", "label", "status", "created_at"),
        Index("ix_mention_label_created_author", "label", "created_at", "platform", "author_handle"),
        # Partial: a lookup of unanswered mentions must not wander into it (it takes ix_mention_unanswered).
        Index(
            "ix_mention_first_response",
            "first_response_at",
            sqlite_where=sql_text("first_response_at IS NOT NULL"),
            postgresql_where=sql_text("first_response_at IS NOT NULL"),
        ),
        Index(
            "ix_mention_unanswered",
            "label",
            "priority",
            "status",
            "created_at",
            sqlite_where=sql_text("first_response_at IS NULL"),
            postgresql_where=sql_text("first_response_at IS NULL"),
        ),
        # dashboard (migration 0007): the inbox sorted by urgency, filtered by assignee, claimer or
        # author (any platform); each walks its index newest-first (keyset pages, capped counts).
        # Assignee and claimer: partial (migration 0015), so a new mention adds no entry to them.
        Index("ix_mention_urgency_created", "urgency", "created_at", "id"),
        Index(
            "ix_mention_assignee_created",
            "assignee",
            "created_at",
            sqlite_where=sql_text("assignee IS NOT NULL"),
            postgresql_where=sql_text("assignee IS NOT NULL"),
        ),
        Index(
            "ix_mention_claimed_created",
            "claimed_by",
            "created_at",
            sqlite_where=sql_text("claimed_by IS NOT NULL"),
            postgresql_where=sql_text("claimed_by IS NOT NULL"),
        ),
        # Also every per-author lookup with a platform (migration 0016 dropped the platform-first copy).
        Index("ix_mention_handle_created", "author_handle", "created_at"),
        # The inbox filtered by a label, most urgent first (migration 0017).
        Index("ix_mention_label_urgency", "label", "urgency", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    external_id: str = Field(max_length=128)
    source: str = Field(max_length=64, description="config name of the source that fetched it")
    url: str | None = Field(default=None, max_length=2048)
    author_handle: str = Field(max_length=256)
    author_name: str | None = Field(default=None, max_length=256)
    author_id: str | None = Field(default=None, max_length=128)
    author_followers: int | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    fetched_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    in_reply_to_id: str | None = Field(default=None, max_length=128)
    conversation_id: str | None = Field(default=None, max_length=128)
    addressed_to_brand: bool = False
    raw: dict = _json(dict)
    # triage
    polarity: float | None = None
    subjectivity: float | None = None
    label: str | None = Field(default=None, max_length=16)
    urgency: int | None = None
    priority: str | None = Field(default=None, max_length=4)
    # Triage's severity of a complaint: severe | moderate | mild (None when not a complaint).
    severity: str | None = Field(default=None, max_length=8)
    reasons: list = _json(list)
    # workflow
    status: str = Field(default="new", max_length=16)
    assignee: str | None = Field(default=None, max_length=128)
    acknowledged_at: datetime | None = _ts()
    first_response_at: datetime | None = _ts()
    resolved_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    incident_id: int | None = Field(default=None, index=True)
    # responder: bumped by every workflow change, so a stale screen's action is refused (Conflict).
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0, server_default="0"))
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = _ts()
    # Who sent the first person-written reply the platform confirmed (stops the first-response clock).
    first_responder: str | None = Field(default=None, max_length=128)
    # Latest reply's state on this mention ("pending" | "sent" | "failed") and the platform's reason.
    reply_status: str | None = Field(default=None, max_length=16)
    reply_error: str | None = Field(default=None, sa_column=Column(Text))


class Author(SQLModel, table=True):
    """Per-platform author with counters for complaint history."""

    __tablename__ = "author"
    __table_args__ = (UniqueConstraint("platform", "handle", name="uq_author_platform_handle"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    handle: str = Field(max_length=256)
    author_id: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=256)
    followers: int | None = None
    mentions_total: int = 0
    complaints_total: int = 0
    first_seen_at: datetime | None = _ts()
    last_mention_at: datetime | None = _ts()
    last_complaint_at: datetime | None = _ts()
    # ISO times of this author's complaints in the last 24 h (pruned on write; for triage history).
    recent_complaints: list = _json(list)


class SourceCursor(SQLModel, table=True):
    """A source's persisted cursor and health: the scheduler's memory across restarts."""

    __tablename__ = "source_cursor"

    source: str = Field(primary_key=True, max_length=64)
    platform: str = Field(max_length=32)
    cursor: dict = _json(dict)
    state: str = Field(default="ok", max_length=16)
    state_since: datetime | None = _ts()
    last_poll_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = 0
    next_poll_at: datetime | None = _ts()
    mentions_total: int = 0
    items_read_total: int = 0
    requests_total: int = 0
    skipped: dict = _json(dict)
    budget: dict = _json(dict)
    # Multiple instances on one database: only the lease holder polls this source.
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class CoverageGap(SQLModel, table=True):
    """A time range a source could not cover ("X blind 02:10–05:40"); ``end`` is null while open."""

    __tablename__ = "coverage_gap"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64, index=True)
    start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    end: datetime | None = _ts()
    reason: str = Field(sa_column=Column(Text, nullable=False))
    estimated_missed: int | None = None


class AlertOutbox(SQLModel, table=True):
    """One alert: committed with its mention; delivered per destination via :class:`AlertDelivery`."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        Index("ix_alert_created", "created_at"),
        # "this author / this thread already alerted within the window" reads only their own alerts.
        Index("ix_alert_author_created", "platform", "author_handle", "created_at"),
        Index("ix_alert_conversation_created", "platform", "conversation_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Idempotency key, e.g. "mention:42:route:urgent"; a retried commit cannot create it twice.
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(default="mention", max_length=16)  # mention | incident | operator | digest | escalation
    mention_id: int | None = Field(default=None, index=True)
    route: str = Field(max_length=64)
    priority: str | None = Field(default=None, max_length=4)
    title: str | None = Field(default=None, sa_column=Column(Text))
    body: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Copied from the mention for mention alerts, so per-author/thread windows need no join.
    platform: str | None = Field(default=None, max_length=32)
    author_handle: str | None = Field(default=None, max_length=256)
    conversation_id: str | None = Field(default=None, max_length=128)


class Incident(SQLModel, table=True):
    """A storm of similar complaints (an outage) folded into one alert with a live count.

    Members point here through ``Mention.incident_id``; samples, top authors and the
    sentiment trend are read from them, so only the counters live on this row.
    """

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_group", "platform", "term", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    term: str | None = Field(default=None, max_length=128)  # the storm's term; None = the whole platform
    status: str = Field(default="open", max_length=16)  # open | closed | resolved
    opened_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = _ts()
    count: int = 0
    notified_count: int = 0  # the count in the last alert sent about it
    notified_at: datetime | None = _ts()
    updates: int = 0  # count updates sent so far (part of their idempotency keys)
    routes: list = _json(list)  # the routes its alerts go to
    acknowledged_at: datetime | None = _ts()
    resolved_at: datetime | None = _ts()


class AlertDelivery(SQLModel, table=True):
    """The ledger: one row per (alert, destination) with every attempt's outcome."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "destination", name="uq_delivery_alert_destination"),
        Index("ix_delivery_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(index=True)
    # Stable id of a configured target: "<route>/<n>:<hash>"; the URL itself (with secrets) is not stored.
    destination: str = Field(max_length=128)
    destination_label: str | None = Field(default=None, max_length=512)  # URL with secrets masked
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts()
    last_attempt_at: datetime | None = _ts()
    delivered_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    log: list = _json(list)
    # Several instances: which process is sending it and when it last renewed the claim (store/claims.py).
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = _ts()
    # An ambiguous (unknown) send's follow-up: resend → resent, digest → digested, none (alerts/followup.py).
    followup: str | None = Field(default=None, max_length=16, index=True)
    followup_alert_id: int | None = None  # the digest alert that lists this P3 ambiguous send


class ReplyOutbox(SQLModel, table=True):
    """A public reply an agent asked to post; the responder sends it and records the platform's id."""

    __tablename__ = "reply_outbox"
    __table_args__ = (Index("ix_reply_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    mention_id: int = Field(index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=128)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts()
    platform_reply_id: str | None = Field(default=None, max_length=128)
    platform_reply_url: str | None = Field(default=None, max_length=2048)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = _ts()
    # responder (migration 0004)
    platform: str | None = Field(default=None, max_length=32)
    source: str | None = Field(default=None, max_length=64)  # config name of the source whose account replies
    automatic: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    template: str | None = Field(default=None, max_length=64)
    incident_id: int | None = Field(default=None, index=True)
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = _ts()
    last_attempt_at: datetime | None = _ts()
    log: list = _json(list)


class Event(SQLModel, table=True):
    """Audit log: who changed what on which mention, and when."""

    __tablename__ = "event"
    # dashboard (migration 0007): recent assignees/claimers for the inbox's filter suggestions.
    __table_args__ = (Index("ix_event_action_at", "action", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=32)
    actor: str = Field(max_length=128)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    detail: dict = _json(dict)


class LabelCorrection(SQLModel, table=True):
    """An agent's correction of a triage label: evaluation data and training rows."""

    __tablename__ = "label_correction"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(index=True)
    predicted: str | None = Field(default=None, max_length=16)
    corrected: str = Field(max_length=16)
    # The team's severity for a complaint (severe | moderate | mild), when the label file gives one.
    severity: str | None = Field(default=None, max_length=8)
    # The mention's severity before this correction (triage's, unless the team rated it earlier):
    # the correction may change the mention's severity, so this keeps what it replaced (0018).
    predicted_severity: str | None = Field(default=None, max_length=8)
    actor: str = Field(max_length=128)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# -- inbox: exact counts per filter combination (monitor/store/inbox_counts.py; kept by triggers) --


class InboxCount(SQLModel, table=True):
    """How many mentions have this platform, label, priority, severity, status, assignee and claimer
    ('' = none)."""

    __tablename__ = "inbox_count"

    platform: str = Field(primary_key=True, max_length=32)
    label: str = Field(primary_key=True, max_length=16)
    priority: str = Field(primary_key=True, max_length=4)
    severity: str = Field(primary_key=True, max_length=8)
    status: str = Field(primary_key=True, max_length=16)
    assignee: str = Field(primary_key=True, max_length=128)
    claimed_by: str = Field(primary_key=True, max_length=128)
    n: int = 0


class InboxCountDelta(SQLModel, table=True):
    """+1 / -1 rows the mention triggers append; folded into ``inbox_count`` by a reader."""

    __tablename__ = "inbox_count_delta"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    label: str = Field(max_length=16)
    priority: str = Field(max_length=4)
    severity: str = Field(max_length=8)
    status: str = Field(max_length=16)
    assignee: str = Field(max_length=128)
    claimed_by: str = Field(max_length=128)
    n: int


# -- reports: pre-aggregated figures (monitor/reports/rollup.py keeps them up to date) -------------


class ReportHourly(SQLModel, table=True):
    """Mentions per source, UTC hour and label with sentiment sums: volume and sentiment charts."""

    __tablename__ = "report_hourly"
    # source/hour (migration 0012, covering): a coverage gap's usual rate, for its missed-posts estimate.
    __table_args__ = (
        Index("ix_report_hourly_hour", "hour"),
        Index("ix_report_hourly_source_hour", "source", "hour", "n"),
    )

    platform: str = Field(primary_key=True, max_length=32)
    source: str = Field(primary_key=True, max_length=64)
    hour: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    label: str = Field(primary_key=True, max_length=16)
    n: int = 0
    polarity_sum: float = 0.0
    polarity_n: int = 0
    negative_n: int = 0


class ReportDaily(SQLModel, table=True):
    """Mentions per platform, local day (business time zone) and label: charts longer than 3 days."""

    __tablename__ = "report_daily"
    # Covering (migration 0012): a period's charts read only this index, in day order.
    __table_args__ = (
        Index(
            "ix_report_daily_day", "day", "platform", "label", "n", "polarity_sum", "polarity_n", "negative_n"
        ),
    )

    platform: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    label: str = Field(primary_key=True, max_length=16)
    n: int = 0
    polarity_sum: float = 0.0
    polarity_n: int = 0
    negative_n: int = 0


class ReportTopic(SQLModel, table=True):
    """Key phrases of complaints per UTC day and platform (extracted once, at roll-up)."""

    __tablename__ = "report_topic"
    # platform "" holds every platform together (the unfiltered top topics read only those rows).
    __table_args__ = (
        Index("ix_report_topic_day", "day"),
        Index("ix_report_topic_platform_day", "platform", "day", "phrase", "n"),
    )

    day: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    platform: str = Field(primary_key=True, max_length=32)
    phrase: str = Field(primary_key=True, max_length=128)
    n: int = 0


class ReportResponse(SQLModel, table=True):
    """A mention's first response, timed on the wall clock and in business hours; and what came next."""

    __tablename__ = "report_response"
    __table_args__ = (
        # Covering: the SLA and recovery figures of a period read only this index.
        Index(
            "ix_report_response_created",
            "created_at",
            "platform",
            "responder",
            "priority",
            "label",
            "business_seconds",
            "wall_seconds",
            "polarity",
            "next_polarity",
        ),
        Index("ix_report_response_author", "platform", "author_handle", "responded_at"),
    )

    mention_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    platform: str = Field(max_length=32)
    author_handle: str = Field(max_length=256)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    responded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    responder: str | None = Field(default=None, max_length=128)
    priority: str | None = Field(default=None, max_length=4)
    label: str | None = Field(default=None, max_length=16)
    polarity: float | None = None
    wall_seconds: float = 0.0
    business_seconds: float = 0.0
    # The author's next mention after the reply (recovery: was it less negative?).
    next_mention_id: int | None = None
    next_polarity: float | None = None


class ReportResponseDaily(SQLModel, table=True):
    """``report_response`` summed per UTC day (of posting), platform, responder and priority.

    ``met_*`` use the SLA minutes of the config at roll-up time (recomputed when they change);
    ``b*``/``w*`` count responses within 15 min / 1 h / 4 h / 24 h in business / wall time.
    """

    __tablename__ = "report_response_daily"
    # Covering (migration 0012): a period's SLA and recovery figures read only this index.
    __table_args__ = (
        Index(
            "ix_report_response_daily_day",
            "day",
            "platform",
            "responder",
            "priority",
            "n",
            "b15",
            "b60",
            "b240",
            "b1440",
            "met_b",
            "sum_b",
            "w15",
            "w60",
            "w240",
            "w1440",
            "met_w",
            "sum_w",
            "negative",
            "followed",
            "recovered",
        ),
    )

    day: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    platform: str = Field(primary_key=True, max_length=32)
    responder: str = Field(primary_key=True, max_length=128)  # "" when unknown
    priority: str = Field(primary_key=True, max_length=4)  # "" when none
    n: int = 0
    b15: int = 0
    b60: int = 0
    b240: int = 0
    b1440: int = 0
    met_b: int = 0
    sum_b: float = 0.0
    w15: int = 0
    w60: int = 0
    w240: int = 0
    w1440: int = 0
    met_w: int = 0
    sum_w: float = 0.0
    negative: int = 0  # complaints or polarity < 0 (recovery's population)
    followed: int = 0  # …whose author posted again
    recovered: int = 0  # …less negatively


class ReportComplaint(SQLModel, table=True):
    """Each complaint as the reports count it: its author's previous complaint and, while it is open,
    its status. Kept in step with relabels and status changes (migration 0012).

    An author has k >= 2 complaints in ``[start, end)`` exactly when k - 1 of them have
    ``prev_at >= start``: repeat complainers read only those rows. Open complaints of the last
    days are read here, older ones from ``report_open``.
    """

    __tablename__ = "report_complaint"
    __table_args__ = (
        Index("ix_report_complaint_author", "author_handle", "platform", "created_at"),
        Index(
            "ix_report_complaint_repeat",
            "prev_at",
            "created_at",
            "platform",
            "author_handle",
            sqlite_where=sql_text("prev_at IS NOT NULL"),
            postgresql_where=sql_text("prev_at IS NOT NULL"),
        ),
        Index(
            "ix_report_complaint_open",
            "created_at",
            "open_status",
            "platform",
            sqlite_where=sql_text("open_status IS NOT NULL"),
            postgresql_where=sql_text("open_status IS NOT NULL"),
        ),
    )

    mention_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    platform: str = Field(max_length=32)
    author_handle: str = Field(max_length=256)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    prev_at: datetime | None = _ts()  # the same author's previous complaint (same platform)
    open_status: str | None = Field(default=None, max_length=16)  # new | acknowledged | replied


class ReportOpen(SQLModel, table=True):
    """Open complaints per UTC day of posting, platform and status (``report_complaint`` summed)."""

    __tablename__ = "report_open"

    day: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    platform: str = Field(primary_key=True, max_length=32)
    status: str = Field(primary_key=True, max_length=16)
    n: int = 0


class ReportState(SQLModel, table=True):
    """How far the roll-up has read (mention id, correction id, response time) and with which hours."""

    __tablename__ = "report_state"

    name: str = Field(primary_key=True, max_length=32)
    int_value: int | None = None
    at: datetime | None = _ts()
    text_value: str | None = Field(default=None, max_length=256)


class SchemaInfo(SQLModel, table=True):
    """Facts about the schema itself, e.g. ``migrated_by``: the release that last migrated it.

    An older release that finds an unknown revision names this release in its refusal.
    """

    __tablename__ = "schema_info"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))
