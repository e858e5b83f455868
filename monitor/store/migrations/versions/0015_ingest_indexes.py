"""Ingest: two fewer mention index entries per stored mention, one fewer index

Revision ID: 0015
Revises: 0014

Every stored mention paid an entry in each of mention's indexes. Three of them gave queries
nothing for that cost:

- ``ix_mention_label_created`` (label, created_at) is a prefix of
  ``ix_mention_label_created_author`` (label, created_at, platform, author_handle), which
  serves every query it served;
- ``ix_mention_assignee_created`` and ``ix_mention_claimed_created`` held a NULL entry for every
  mention nobody was assigned or claimed, i.e. nearly all of them and every new one. They
  become partial (``WHERE assignee IS NOT NULL`` / ``claimed_by IS NOT NULL``): a filter on a
  person (``assignee = ?``) still walks them; "assigned to nobody" matches most mentions, so it
  walks the time index like the plain inbox does.

Checked against the query plans of every SELECT on mention the dashboard benchmark's pages
and the CLI listing filters run, on a 1M-mention store (before/after).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _partial(name: str, column: str) -> None:
    where = sa.text(f"{column} IS NOT NULL")
    op.create_index(name, "mention", [column, "created_at"], sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    op.drop_index("ix_mention_label_created", table_name="mention")
    op.drop_index("ix_mention_assignee_created", table_name="mention")
    op.drop_index("ix_mention_claimed_created", table_name="mention")
    _partial("ix_mention_assignee_created", "assignee")
    _partial("ix_mention_claimed_created", "claimed_by")


def downgrade() -> None:
    op.drop_index("ix_mention_claimed_created", table_name="mention")
    op.drop_index("ix_mention_assignee_created", table_name="mention")
    op.create_index("ix_mention_claimed_created", "mention", ["claimed_by", "created_at"])
    op.create_index("ix_mention_assignee_created", "mention", ["assignee", "created_at"])
    op.create_index("ix_mention_label_created", "mention", ["label", "created_at"])
