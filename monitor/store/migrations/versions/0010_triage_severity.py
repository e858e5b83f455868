"""Triage severity: mention.severity and label_correction.severity

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("severity", sa.String(length=8), nullable=True))
    with op.batch_alter_table("label_correction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("severity", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("label_correction", schema=None) as batch_op:
        batch_op.drop_column("severity")
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_column("severity")
