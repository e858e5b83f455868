"""Reports: each complaint with its author's previous one and open status, open complaints per day,
every-platform topic rows

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_complaint",
        sa.Column("mention_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("author_handle", sa.String(length=256), nullable=False),
        sa.Column("created_at", monitor.store.types.UTCDateTime(), nullable=False),
        sa.Column("prev_at", monitor.store.types.UTCDateTime(), nullable=True),
        sa.Column("open_status", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("mention_id"),
    )
    # Handle first: a platform filter must not pick it over ix_report_complaint_repeat.
    op.create_index(
        "ix_report_complaint_author",
        "report_complaint",
        ["author_handle", "platform", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_report_complaint_repeat",
        "report_complaint",
        ["prev_at", "created_at", "platform", "author_handle"],
        unique=False,
        sqlite_where=sa.text("prev_at IS NOT NULL"),
        postgresql_where=sa.text("prev_at IS NOT NULL"),
    )
    op.create_index(
        "ix_report_complaint_open",
        "report_complaint",
        ["created_at", "open_status", "platform"],
        unique=False,
        sqlite_where=sa.text("open_status IS NOT NULL"),
        postgresql_where=sa.text("open_status IS NOT NULL"),
    )
    op.create_table(
        "report_open",
        sa.Column("day", monitor.store.types.UTCDateTime(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "status"),
    )
    op.create_index(
        "ix_report_topic_platform_day", "report_topic", ["platform", "day", "phrase", "n"], unique=False
    )
    op.create_index("ix_report_hourly_source_hour", "report_hourly", ["source", "hour", "n"], unique=False)
    op.create_index(
        "ix_report_daily_day",
        "report_daily",
        ["day", "platform", "label", "n", "polarity_sum", "polarity_n", "negative_n"],
        unique=False,
    )
    op.create_index(
        "ix_report_response_daily_day",
        "report_response_daily",
        [
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
        ],
        unique=False,
    )
    # Topic rows of every platform together (platform ""), from the per-platform rows rolled up so far.
    op.execute(
        "INSERT INTO report_topic (day, platform, phrase, n) "
        "SELECT day, '', phrase, SUM(n) FROM report_topic WHERE platform <> '' GROUP BY day, phrase"
    )
    # report_complaint and report_open fill from the mentions already stored at the next roll-up
    # catch-up (its "complaints" position starts at 0).


def downgrade() -> None:
    op.execute("DELETE FROM report_topic WHERE platform = ''")
    op.drop_index("ix_report_topic_platform_day", table_name="report_topic")
    op.drop_index("ix_report_response_daily_day", table_name="report_response_daily")
    op.drop_index("ix_report_daily_day", table_name="report_daily")
    op.drop_index("ix_report_hourly_source_hour", table_name="report_hourly")
    op.drop_table("report_open")
    op.drop_index("ix_report_complaint_open", table_name="report_complaint")
    op.drop_index("ix_report_complaint_repeat", table_name="report_complaint")
    op.drop_index("ix_report_complaint_author", table_name="report_complaint")
    op.drop_table("report_complaint")
    op.execute("DELETE FROM report_state WHERE name IN ('complaints', 'events')")
