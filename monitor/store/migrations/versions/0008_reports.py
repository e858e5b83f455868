"""Reports: hourly/daily/topic/response roll-ups, their state, and the mention indexes reports read

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_hourly",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("hour", monitor.store.types.UTCDateTime(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("polarity_sum", sa.Float(), nullable=False),
        sa.Column("polarity_n", sa.Integer(), nullable=False),
        sa.Column("negative_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "source", "hour", "label"),
    )
    op.create_index("ix_report_hourly_hour", "report_hourly", ["hour"], unique=False)
    op.create_table(
        "report_daily",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("polarity_sum", sa.Float(), nullable=False),
        sa.Column("polarity_n", sa.Integer(), nullable=False),
        sa.Column("negative_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "day", "label"),
    )
    op.create_table(
        "report_topic",
        sa.Column("day", monitor.store.types.UTCDateTime(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("phrase", sa.String(length=128), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "phrase"),
    )
    op.create_index("ix_report_topic_day", "report_topic", ["day"], unique=False)
    op.create_table(
        "report_response",
        sa.Column("mention_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("author_handle", sa.String(length=256), nullable=False),
        sa.Column("created_at", monitor.store.types.UTCDateTime(), nullable=False),
        sa.Column("responded_at", monitor.store.types.UTCDateTime(), nullable=False),
        sa.Column("responder", sa.String(length=128), nullable=True),
        sa.Column("priority", sa.String(length=4), nullable=True),
        sa.Column("label", sa.String(length=16), nullable=True),
        sa.Column("polarity", sa.Float(), nullable=True),
        sa.Column("wall_seconds", sa.Float(), nullable=False),
        sa.Column("business_seconds", sa.Float(), nullable=False),
        sa.Column("next_mention_id", sa.Integer(), nullable=True),
        sa.Column("next_polarity", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("mention_id"),
    )
    op.create_index(
        "ix_report_response_created",
        "report_response",
        [
            "created_at",
            "platform",
            "responder",
            "priority",
            "label",
            "business_seconds",
            "wall_seconds",
            "polarity",
            "next_polarity",
        ],
        unique=False,
    )
    op.create_index(
        "ix_report_response_author",
        "report_response",
        ["platform", "author_handle", "responded_at"],
        unique=False,
    )
    op.create_table(
        "report_response_daily",
        sa.Column("day", monitor.store.types.UTCDateTime(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("responder", sa.String(length=128), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in ("n", "b15", "b60", "b240", "b1440", "met_b")],
        sa.Column("sum_b", sa.Float(), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in ("w15", "w60", "w240", "w1440", "met_w")],
        sa.Column("sum_w", sa.Float(), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in ("negative", "followed", "recovered")],
        sa.PrimaryKeyConstraint("day", "platform", "responder", "priority"),
    )
    op.create_table(
        "report_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("int_value", sa.Integer(), nullable=True),
        sa.Column("at", monitor.store.types.UTCDateTime(), nullable=True),
        sa.Column("text_value", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mention_label_status_created", ["label", "status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_mention_label_created_author",
            ["label", "created_at", "platform", "author_handle"],
            unique=False,
        )
        batch_op.create_index(
            "ix_mention_first_response",
            ["first_response_at"],
            unique=False,
            sqlite_where=sa.text("first_response_at IS NOT NULL"),
            postgresql_where=sa.text("first_response_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_mention_unanswered",
            ["label", "priority", "status", "created_at"],
            unique=False,
            sqlite_where=sa.text("first_response_at IS NULL"),
            postgresql_where=sa.text("first_response_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_unanswered")
        batch_op.drop_index("ix_mention_first_response")
        batch_op.drop_index("ix_mention_label_created_author")
        batch_op.drop_index("ix_mention_label_status_created")
    op.drop_table("report_state")
    op.drop_table("report_response_daily")
    op.drop_index("ix_report_response_author", table_name="report_response")
    op.drop_index("ix_report_response_created", table_name="report_response")
    op.drop_table("report_response")
    op.drop_table("report_daily")
    op.drop_index("ix_report_topic_day", table_name="report_topic")
    op.drop_table("report_topic")
    op.drop_index("ix_report_hourly_hour", table_name="report_hourly")
    op.drop_table("report_hourly")
