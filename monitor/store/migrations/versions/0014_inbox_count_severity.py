"""Inbox: severity becomes a counted column of inbox_count (exact counts with the severity filter)

Revision ID: 0014
Revises: 0013

The count tables and their triggers are re-created with ``severity`` next to ``priority`` and
refilled from the stored mentions (one GROUP BY over ``mention``; a few seconds at 1M).
Severity is set only on complaints, so the table grows by at most three rows per complaint
combination (a few hundred rows in all at 1M mentions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store import inbox_counts

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LENGTHS = {
    "platform": 32,
    "label": 16,
    "priority": 4,
    "severity": 8,
    "status": 16,
    "assignee": 128,
    "claimed_by": 128,
}


def _recreate(dims: tuple[str, ...]) -> None:
    conn = op.get_bind()
    inbox_counts.uninstall(conn)
    op.drop_table("inbox_count_delta")
    op.drop_table("inbox_count")

    def columns() -> list[sa.Column]:
        return [sa.Column(d, sa.String(length=_LENGTHS[d]), nullable=False) for d in dims]

    op.create_table(
        "inbox_count",
        *columns(),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*dims),
    )
    op.create_table(
        "inbox_count_delta",
        sa.Column("id", sa.Integer(), nullable=False),
        *columns(),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    inbox_counts.install(conn, dims)


def upgrade() -> None:
    _recreate(inbox_counts.DIMS)


def downgrade() -> None:
    _recreate(inbox_counts.DIMS_0011)
