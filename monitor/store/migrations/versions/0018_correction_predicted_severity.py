"""Label corrections keep triage's severity: label_correction.predicted_severity

Revision ID: 0018
Revises: 0017

A relabel now changes the mention's severity too (the team's judgement is what the inbox shows:
a complaint relabelled spam loses its badge, ``complaint --severity mild`` makes it mild), so the
severity the mention had before the correction is kept on the correction row, as ``predicted``
keeps the label. Existing rows are filled from their mention's severity: before this revision a
relabel never changed it, so it is still the severity triage gave.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("label_correction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("predicted_severity", sa.String(length=8), nullable=True))
    op.execute(
        "UPDATE label_correction SET predicted_severity ="
        " (SELECT mention.severity FROM mention WHERE mention.id = label_correction.mention_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("label_correction", schema=None) as batch_op:
        batch_op.drop_column("predicted_severity")
