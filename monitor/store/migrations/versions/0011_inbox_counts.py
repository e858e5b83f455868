"""Inbox: exact counts per filter combination (inbox_count, kept by triggers) and the thread index

Revision ID: 0011
Revises: 0010

``inbox_count`` is filled from the stored mentions once (one GROUP BY over ``mention``; ~2-5 s
at 1M) and from then on kept by the triggers of :mod:`monitor.store.inbox_counts`.
``ix_mention_conversation`` becomes ``(platform, conversation_id, created_at)``: a mention
page's thread is read in time order along it (SQLite walked the platform's time index instead:
1.6 s at 1M mentions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store import inbox_counts

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dims() -> list[sa.Column]:
    return [
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=128), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "inbox_count",
        *_dims(),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "label", "priority", "status", "assignee", "claimed_by"),
    )
    op.create_table(
        "inbox_count_delta",
        sa.Column("id", sa.Integer(), nullable=False),
        *_dims(),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_conversation")
        batch_op.create_index(
            "ix_mention_conversation_created", ["platform", "conversation_id", "created_at"], unique=False
        )
    inbox_counts.install(op.get_bind(), inbox_counts.DIMS_0011)  # 0014 adds severity


def downgrade() -> None:
    inbox_counts.uninstall(op.get_bind())
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_conversation_created")
        batch_op.create_index("ix_mention_conversation", ["platform", "conversation_id"], unique=False)
    op.drop_table("inbox_count_delta")
    op.drop_table("inbox_count")
