"""Alert deliveries record which instance claimed them and when; schema_info names the migrating release

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schema_info",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", monitor.store.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
    op.drop_table("schema_info")
