"""Faster per-page history checks: author complaint times, alert author/thread, storm index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:37:30.037982
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("author", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "recent_complaints",
                monitor.store.types.JSONType,
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mention_platform_label_created", ["platform", "label", "created_at"], unique=False
        )
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("author_handle", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("conversation_id", sa.String(length=128), nullable=True))
        batch_op.create_index(
            "ix_alert_author_created", ["platform", "author_handle", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_alert_conversation_created", ["platform", "conversation_id", "created_at"], unique=False
        )
    # Alerts made before this revision: copy the fields from their mentions.
    op.execute(
        "UPDATE alert_outbox SET platform = (SELECT platform FROM mention WHERE mention.id = alert_outbox.mention_id),"
        " author_handle = (SELECT author_handle FROM mention WHERE mention.id = alert_outbox.mention_id),"
        " conversation_id = (SELECT conversation_id FROM mention WHERE mention.id = alert_outbox.mention_id)"
        " WHERE mention_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_conversation_created")
        batch_op.drop_index("ix_alert_author_created")
        batch_op.drop_column("conversation_id")
        batch_op.drop_column("author_handle")
        batch_op.drop_column("platform")
    with op.batch_alter_table("author", schema=None) as batch_op:
        batch_op.drop_column("recent_complaints")
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_platform_label_created")
