"""The tables as SQLAlchemy Core, for commands that must start fast (no SQLModel, no ORM, no pydantic).

:mod:`monitor.store.models` is the schema's definition (SQLModel classes; alembic compares the
migrations with it). Importing it costs ~0.3 s (sqlmodel loads the ORM and pydantic and builds a
model class per table), which every ``ack`` or ``mentions`` paid before its first query. The
workflow, the listing queries and the search read these Core tables instead: the same tables
column for column, which ``tests/core/test_tables.py`` proves by compiling every table's and
index's DDL from both on SQLite and PostgreSQL and comparing each column's default. Change a
table in ``models.py``, then here (the test names what differs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text

from monitor.store.types import JSONType, UTCDateTime

MENTION_STATUSES = ("new", "acknowledged", "replied", "resolved", "ignored")
SOURCE_STATES = ("ok", "degraded", "rate_limited", "budget_spent", "auth_failed")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed", "unknown", "gave_up")
REPLY_STATUSES = ("draft", "pending", "sending", "sent", "failed", "unknown", "cancelled")

# The same naming convention as SQLModel's metadata: ``index=True`` makes ``ix_<table>_<column>``.
_metadata = MetaData(naming_convention={"ix": "ix_%(column_0_label)s"})

# Each table below is built on first use (``tables.mention``), not at import: building all of
# them took 15-35 ms of every command, which touches two or three. ``tables.metadata`` builds
# them all (the tests, DDL). The builders are named ``_<table>``; ``__getattr__`` is at the end.
_BUILDERS: dict[str, Callable[[], Table]] = {}
_building = threading.Lock()


def _lazy(build: Callable[[], Table]) -> Callable[[], Table]:
    _BUILDERS[build.__name__.removeprefix("_")] = build
    return build


@_lazy
def _mention() -> Table:
    return Table(
        "mention",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("platform", String(32), nullable=False),
        Column("external_id", String(128), nullable=False),
        Column("source", String(64), nullable=False),
        Column("url", String(2048), nullable=True),
        Column("author_handle", String(256), nullable=False),
        Column("author_name", String(256), nullable=True),
        Column("author_id", String(128), nullable=True),
        Column("author_followers", Integer, nullable=True),
        Column("text", Text, nullable=False),
        Column("language", String(16), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False, index=True),
        Column("fetched_at", UTCDateTime(), nullable=False),
        Column("in_reply_to_id", String(128), nullable=True),
        Column("conversation_id", String(128), nullable=True),
        Column("addressed_to_brand", Boolean, nullable=False, default=False),
        Column("raw", JSONType, nullable=False, default=dict),
        Column("polarity", Float, nullable=True),
        Column("subjectivity", Float, nullable=True),
        Column("label", String(16), nullable=True),
        Column("urgency", Integer, nullable=True),
        Column("priority", String(4), nullable=True),
        Column("severity", String(8), nullable=True),
        Column("reasons", JSONType, nullable=False, default=list),
        Column("status", String(16), nullable=False, default="new"),
        Column("assignee", String(128), nullable=True),
        Column("acknowledged_at", UTCDateTime(), nullable=True),
        Column("first_response_at", UTCDateTime(), nullable=True),
        Column("resolved_at", UTCDateTime(), nullable=True),
        Column("updated_at", UTCDateTime(), nullable=True),
        Column("incident_id", Integer, nullable=True, index=True),
        Column("version", Integer, nullable=False, default=0, server_default="0"),
        Column("claimed_by", String(128), nullable=True),
        Column("claimed_at", UTCDateTime(), nullable=True),
        Column("first_responder", String(128), nullable=True),
        Column("reply_status", String(16), nullable=True),
        Column("reply_error", Text, nullable=True),
        UniqueConstraint("platform", "external_id", name="uq_mention_platform_external_id"),
        Index("ix_mention_conversation_created", "platform", "conversation_id", "created_at"),
        Index("ix_mention_handle_created", "author_handle", "created_at"),
        Index("ix_mention_label_created_author", "label", "created_at", "platform", "author_handle"),
        Index("ix_mention_label_status_created", "label", "status", "created_at"),
        Index("ix_mention_label_urgency", "label", "urgency", "created_at", "id"),
        Index("ix_mention_platform_created", "platform", "created_at"),
        Index("ix_mention_platform_label_created", "platform", "label", "created_at"),
        Index("ix_mention_priority_created", "priority", "created_at"),
        Index("ix_mention_status_created", "status", "created_at"),
        Index("ix_mention_urgency_created", "urgency", "created_at", "id"),
    )


@_lazy
def _author() -> Table:
    return Table(
        "author",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("platform", String(32), nullable=False),
        Column("handle", String(256), nullable=False),
        Column("author_id", String(128), nullable=True),
        Column("name", String(256), nullable=True),
        Column("followers", Integer, nullable=True),
        Column("mentions_total", Integer, nullable=False, default=0),
        Column("complaints_total", Integer, nullable=False, default=0),
        Column("first_seen_at", UTCDateTime(), nullable=True),
        Column("last_mention_at", UTCDateTime(), nullable=True),
        Column("last_complaint_at", UTCDateTime(), nullable=True),
        Column("recent_complaints", JSONType, nullable=False, default=list),
        UniqueConstraint("platform", "handle", name="uq_author_platform_handle"),
    )


@_lazy
def _source_cursor() -> Table:
    return Table(
        "source_cursor",
        _metadata,
        Column("source", String(64), primary_key=True),
        Column("platform", String(32), nullable=False),
        Column("cursor", JSONType, nullable=False, default=dict),
        Column("state", String(16), nullable=False, default="ok"),
        Column("state_since", UTCDateTime(), nullable=True),
        Column("last_poll_at", UTCDateTime(), nullable=True),
        Column("last_success_at", UTCDateTime(), nullable=True),
        Column("last_error", Text, nullable=True),
        Column("consecutive_failures", Integer, nullable=False, default=0),
        Column("next_poll_at", UTCDateTime(), nullable=True),
        Column("mentions_total", Integer, nullable=False, default=0),
        Column("items_read_total", Integer, nullable=False, default=0),
        Column("requests_total", Integer, nullable=False, default=0),
        Column("skipped", JSONType, nullable=False, default=dict),
        Column("budget", JSONType, nullable=False, default=dict),
        Column("lease_owner", String(128), nullable=True),
        Column("lease_until", UTCDateTime(), nullable=True),
        Column("updated_at", UTCDateTime(), nullable=True),
    )


@_lazy
def _coverage_gap() -> Table:
    return Table(
        "coverage_gap",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("source", String(64), nullable=False, index=True),
        Column("start", UTCDateTime(), nullable=False),
        Column("end", UTCDateTime(), nullable=True),
        Column("reason", Text, nullable=False),
        Column("estimated_missed", Integer, nullable=True),
    )


@_lazy
def _alert_outbox() -> Table:
    return Table(
        "alert_outbox",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("key", String(200), nullable=False, unique=True),
        Column("kind", String(16), nullable=False, default="mention"),
        Column("mention_id", Integer, nullable=True, index=True),
        Column("route", String(64), nullable=False),
        Column("priority", String(4), nullable=True),
        Column("title", Text, nullable=True),
        Column("body", Text, nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("platform", String(32), nullable=True),
        Column("author_handle", String(256), nullable=True),
        Column("conversation_id", String(128), nullable=True),
        Index("ix_alert_author_created", "platform", "author_handle", "created_at"),
        Index("ix_alert_conversation_created", "platform", "conversation_id", "created_at"),
        Index("ix_alert_created", "created_at"),
    )


@_lazy
def _incident() -> Table:
    return Table(
        "incident",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("platform", String(32), nullable=False),
        Column("term", String(128), nullable=True),
        Column("status", String(16), nullable=False, default="open"),
        Column("opened_at", UTCDateTime(), nullable=False, index=True),
        Column("last_seen_at", UTCDateTime(), nullable=False),
        Column("closed_at", UTCDateTime(), nullable=True),
        Column("count", Integer, nullable=False, default=0),
        Column("notified_count", Integer, nullable=False, default=0),
        Column("notified_at", UTCDateTime(), nullable=True),
        Column("updates", Integer, nullable=False, default=0),
        Column("routes", JSONType, nullable=False, default=list),
        Column("acknowledged_at", UTCDateTime(), nullable=True),
        Column("resolved_at", UTCDateTime(), nullable=True),
        Index("ix_incident_group", "platform", "term", "status"),
    )


@_lazy
def _alert_delivery() -> Table:
    return Table(
        "alert_delivery",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("alert_id", Integer, nullable=False, index=True),
        Column("destination", String(128), nullable=False),
        Column("destination_label", String(512), nullable=True),
        Column("status", String(16), nullable=False, default="pending"),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", UTCDateTime(), nullable=True),
        Column("last_attempt_at", UTCDateTime(), nullable=True),
        Column("delivered_at", UTCDateTime(), nullable=True),
        Column("last_error", Text, nullable=True),
        Column("log", JSONType, nullable=False, default=list),
        Column("claimed_by", String(128), nullable=True),
        Column("claimed_at", UTCDateTime(), nullable=True),
        Column("followup", String(16), nullable=True, index=True),
        Column("followup_alert_id", Integer, nullable=True),
        UniqueConstraint("alert_id", "destination", name="uq_delivery_alert_destination"),
        Index("ix_delivery_status_next", "status", "next_attempt_at"),
    )


@_lazy
def _reply_outbox() -> Table:
    return Table(
        "reply_outbox",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("key", String(200), nullable=False, unique=True),
        Column("mention_id", Integer, nullable=False, index=True),
        Column("body", Text, nullable=False),
        Column("author", String(128), nullable=False),
        Column("status", String(16), nullable=False, default="pending"),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", UTCDateTime(), nullable=True),
        Column("platform_reply_id", String(128), nullable=True),
        Column("platform_reply_url", String(2048), nullable=True),
        Column("last_error", Text, nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("sent_at", UTCDateTime(), nullable=True),
        Column("platform", String(32), nullable=True),
        Column("source", String(64), nullable=True),
        Column("automatic", Boolean, nullable=False, server_default=false()),
        Column("template", String(64), nullable=True),
        Column("incident_id", Integer, nullable=True, index=True),
        Column("claimed_by", String(128), nullable=True),
        Column("claimed_at", UTCDateTime(), nullable=True),
        Column("last_attempt_at", UTCDateTime(), nullable=True),
        Column("log", JSONType, nullable=False, default=list),
        Index("ix_reply_status_next", "status", "next_attempt_at"),
    )


@_lazy
def _event() -> Table:
    return Table(
        "event",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("mention_id", Integer, nullable=True, index=True),
        Column("action", String(32), nullable=False),
        Column("actor", String(128), nullable=False),
        Column("at", UTCDateTime(), nullable=False, index=True),
        Column("detail", JSONType, nullable=False, default=dict),
        Index("ix_event_action_at", "action", "at"),
    )


@_lazy
def _label_correction() -> Table:
    return Table(
        "label_correction",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("mention_id", Integer, nullable=False, index=True),
        Column("predicted", String(16), nullable=True),
        Column("corrected", String(16), nullable=False),
        Column("severity", String(8), nullable=True),
        Column("predicted_severity", String(8), nullable=True),
        Column("actor", String(128), nullable=False),
        Column("at", UTCDateTime(), nullable=False),
    )


@_lazy
def _inbox_count() -> Table:
    return Table(
        "inbox_count",
        _metadata,
        Column("platform", String(32), primary_key=True),
        Column("label", String(16), primary_key=True),
        Column("priority", String(4), primary_key=True),
        Column("severity", String(8), primary_key=True),
        Column("status", String(16), primary_key=True),
        Column("assignee", String(128), primary_key=True),
        Column("claimed_by", String(128), primary_key=True),
        Column("n", Integer, nullable=False, default=0),
    )


@_lazy
def _inbox_count_delta() -> Table:
    return Table(
        "inbox_count_delta",
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("platform", String(32), nullable=False),
        Column("label", String(16), nullable=False),
        Column("priority", String(4), nullable=False),
        Column("severity", String(8), nullable=False),
        Column("status", String(16), nullable=False),
        Column("assignee", String(128), nullable=False),
        Column("claimed_by", String(128), nullable=False),
        Column("n", Integer, nullable=False),
    )


@_lazy
def _report_hourly() -> Table:
    return Table(
        "report_hourly",
        _metadata,
        Column("platform", String(32), primary_key=True),
        Column("source", String(64), primary_key=True),
        Column("hour", UTCDateTime(), primary_key=True),
        Column("label", String(16), primary_key=True),
        Column("n", Integer, nullable=False, default=0),
        Column("polarity_sum", Float, nullable=False, default=0.0),
        Column("polarity_n", Integer, nullable=False, default=0),
        Column("negative_n", Integer, nullable=False, default=0),
        Index("ix_report_hourly_hour", "hour"),
        Index("ix_report_hourly_source_hour", "source", "hour", "n"),
    )


@_lazy
def _report_daily() -> Table:
    return Table(
        "report_daily",
        _metadata,
        Column("platform", String(32), primary_key=True),
        Column("day", Date, primary_key=True),
        Column("label", String(16), primary_key=True),
        Column("n", Integer, nullable=False, default=0),
        Column("polarity_sum", Float, nullable=False, default=0.0),
        Column("polarity_n", Integer, nullable=False, default=0),
        Column("negative_n", Integer, nullable=False, default=0),
        Index(
            "ix_report_daily_day", "day", "platform", "label", "n", "polarity_sum", "polarity_n", "negative_n"
        ),
    )


@_lazy
def _report_topic() -> Table:
    return Table(
        "report_topic",
        _metadata,
        Column("day", UTCDateTime(), primary_key=True),
        Column("platform", String(32), primary_key=True),
        Column("phrase", String(128), primary_key=True),
        Column("n", Integer, nullable=False, default=0),
        Index("ix_report_topic_day", "day"),
        Index("ix_report_topic_platform_day", "platform", "day", "phrase", "n"),
    )


@_lazy
def _report_response() -> Table:
    return Table(
        "report_response",
        _metadata,
        Column("mention_id", Integer, primary_key=True, autoincrement=False),
        Column("platform", String(32), nullable=False),
        Column("author_handle", String(256), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("responded_at", UTCDateTime(), nullable=False),
        Column("responder", String(128), nullable=True),
        Column("priority", String(4), nullable=True),
        Column("label", String(16), nullable=True),
        Column("polarity", Float, nullable=True),
        Column("wall_seconds", Float, nullable=False, default=0.0),
        Column("business_seconds", Float, nullable=False, default=0.0),
        Column("next_mention_id", Integer, nullable=True),
        Column("next_polarity", Float, nullable=True),
        Index("ix_report_response_author", "platform", "author_handle", "responded_at"),
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
    )


@_lazy
def _report_response_daily() -> Table:
    return Table(
        "report_response_daily",
        _metadata,
        Column("day", UTCDateTime(), primary_key=True),
        Column("platform", String(32), primary_key=True),
        Column("responder", String(128), primary_key=True),
        Column("priority", String(4), primary_key=True),
        Column("n", Integer, nullable=False, default=0),
        Column("b15", Integer, nullable=False, default=0),
        Column("b60", Integer, nullable=False, default=0),
        Column("b240", Integer, nullable=False, default=0),
        Column("b1440", Integer, nullable=False, default=0),
        Column("met_b", Integer, nullable=False, default=0),
        Column("sum_b", Float, nullable=False, default=0.0),
        Column("w15", Integer, nullable=False, default=0),
        Column("w60", Integer, nullable=False, default=0),
        Column("w240", Integer, nullable=False, default=0),
        Column("w1440", Integer, nullable=False, default=0),
        Column("met_w", Integer, nullable=False, default=0),
        Column("sum_w", Float, nullable=False, default=0.0),
        Column("negative", Integer, nullable=False, default=0),
        Column("followed", Integer, nullable=False, default=0),
        Column("recovered", Integer, nullable=False, default=0),
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


@_lazy
def _report_complaint() -> Table:
    return Table(
        "report_complaint",
        _metadata,
        Column("mention_id", Integer, primary_key=True, autoincrement=False),
        Column("platform", String(32), nullable=False),
        Column("author_handle", String(256), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("prev_at", UTCDateTime(), nullable=True),
        Column("open_status", String(16), nullable=True),
        Index("ix_report_complaint_author", "author_handle", "platform", "created_at"),
    )


@_lazy
def _report_open() -> Table:
    return Table(
        "report_open",
        _metadata,
        Column("day", UTCDateTime(), primary_key=True),
        Column("platform", String(32), primary_key=True),
        Column("status", String(16), primary_key=True),
        Column("n", Integer, nullable=False, default=0),
    )


@_lazy
def _report_state() -> Table:
    return Table(
        "report_state",
        _metadata,
        Column("name", String(32), primary_key=True),
        Column("int_value", Integer, nullable=True),
        Column("at", UTCDateTime(), nullable=True),
        Column("text_value", String(256), nullable=True),
    )


@_lazy
def _schema_info() -> Table:
    return Table(
        "schema_info",
        _metadata,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )


# Partial indexes: ``postgresql_where`` makes SQLAlchemy load the PostgreSQL dialect package to
# check the keyword (30-50 ms), which a SQLite command has no use for. Queries never need Index
# objects, so these are added when ``metadata`` is asked for (DDL, the tests comparing it with the
# models); the tables are complete from then on.
_PARTIAL_INDEXES: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "mention": [
        ("ix_mention_assignee_created", ("assignee", "created_at"), "assignee IS NOT NULL"),
        ("ix_mention_claimed_created", ("claimed_by", "created_at"), "claimed_by IS NOT NULL"),
        ("ix_mention_first_response", ("first_response_at",), "first_response_at IS NOT NULL"),
        (
            "ix_mention_unanswered",
            ("label", "priority", "status", "created_at"),
            "first_response_at IS NULL",
        ),
    ],
    "report_complaint": [
        (
            "ix_report_complaint_repeat",
            ("prev_at", "created_at", "platform", "author_handle"),
            "prev_at IS NOT NULL",
        ),
        (
            "ix_report_complaint_open",
            ("created_at", "open_status", "platform"),
            "open_status IS NOT NULL",
        ),
    ],
}


def _add_partial_indexes() -> None:
    for table, indexes in _PARTIAL_INDEXES.items():
        for name, columns, where in indexes:
            Index(
                name,
                *(globals()[table].c[c] for c in columns),
                sqlite_where=sql_text(where),
                postgresql_where=sql_text(where),
            )


def __getattr__(name: str) -> Any:
    """``tables.<table>``: build the table on first access (once, also across threads)."""
    if name != "metadata" and name not in _BUILDERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _building:
        for table in _BUILDERS if name == "metadata" else (name,):
            if table not in globals():
                globals()[table] = _BUILDERS[table]()
        if name == "metadata" and "metadata" not in globals():
            _add_partial_indexes()
            globals()["metadata"] = _metadata
    return globals()[name]
