"""Dashboard: indexes for the inbox's urgency sort and its assignee, claimer and author filters

Revision ID: 0007
Revises: 0006
Depends on: 0004 (the responder's mention.claimed_by column)
Create Date: 2026-12-03 03:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index("ix_mention_urgency_created", ["urgency", "created_at", "id"], unique=False)
        batch_op.create_index("ix_mention_assignee_created", ["assignee", "created_at"], unique=False)
        batch_op.create_index("ix_mention_claimed_created", ["claimed_by", "created_at"], unique=False)
        batch_op.create_index("ix_mention_handle_created", ["author_handle", "created_at"], unique=False)
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_action_at", ["action", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_action_at")
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_handle_created")
        batch_op.drop_index("ix_mention_claimed_created")
        batch_op.drop_index("ix_mention_assignee_created")
        batch_op.drop_index("ix_mention_urgency_created")
