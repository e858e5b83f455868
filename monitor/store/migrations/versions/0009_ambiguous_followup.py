"""Alert deliveries remember the follow-up of an ambiguous send (re-sent once, or listed in a digest)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followup", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("followup_alert_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alert_delivery_followup"), ["followup"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_delivery_followup"))
        batch_op.drop_column("followup_alert_id")
        batch_op.drop_column("followup")
