"""Responder: mention version/claim/first responder/reply state; reply outbox platform, claim and log

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", monitor.store.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_responder", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("reply_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reply_error", sa.Text(), nullable=True))
    with op.batch_alter_table("reply_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("automatic", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("template", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", monitor.store.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", monitor.store.types.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("log", monitor.store.types.JSONType, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.create_index(batch_op.f("ix_reply_outbox_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_reply_status_next", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reply_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_reply_status_next")
        batch_op.drop_index(batch_op.f("ix_reply_outbox_incident_id"))
        for name in (
            "log",
            "last_attempt_at",
            "claimed_at",
            "claimed_by",
            "incident_id",
            "template",
            "automatic",
            "source",
            "platform",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("mention", schema=None) as batch_op:
        for name in ("reply_error", "reply_status", "first_responder", "claimed_at", "claimed_by", "version"):
            batch_op.drop_column(name)
