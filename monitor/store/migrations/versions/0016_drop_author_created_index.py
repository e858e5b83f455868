"""Ingest: drop ix_mention_author_created; ix_mention_handle_created serves its queries

Revision ID: 0016
Revises: 0015

``ix_mention_author_created`` (platform, author_handle, created_at) and
``ix_mention_handle_created`` (author_handle, created_at) held the same entries in nearly the
same order. Their key is the author, so every stored mention lands on a random leaf page of
each: on a 1M-mention store the two took half of the ~1,100 pages a 500-mention commit
writes. Every query that walked the first has ``author_handle = ?`` and walks the second
as well (same rows per author, in time order; the platform is checked on the row, and a
handle rarely exists on two platforms): of the 89 SELECTs on mention that the dashboard
benchmark, the CLI filters and an ingest run issue on a 1M store, two changed plan (the
mention page's author conversation), both 0.005-0.007 ms before and after.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_mention_author_created", table_name="mention")


def downgrade() -> None:
    op.create_index("ix_mention_author_created", "mention", ["platform", "author_handle", "created_at"])
