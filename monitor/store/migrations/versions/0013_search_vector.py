"""Search: PostgreSQL keeps each mention's tsvector in a stored generated column with a GIN index

Revision ID: 0013
Revises: 0012

Migration 0006 indexed the expression ``to_tsvector('english', text || ' ' || author_handle)``:
a row found through that index is cheap, but every row the planner tests outside it (newest
first, a phrase's recheck, another filter's index) parsed its text again, 150-320 ms for a
common word at 1M mentions. The stored column is parsed once, on write; 0006's index goes.
Adding the column rewrites ``mention`` (about 1-3 min at 1M mentions; the table is locked
meanwhile). SQLite keeps its FTS5 table: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

from monitor.store import search

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(search.PG_ADD_VECTOR)
    op.execute(search.PG_CREATE_VECTOR_INDEX)
    op.execute(f"DROP INDEX IF EXISTS {search.PG_INDEX}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(search.PG_CREATE_INDEX)
    op.execute(f"DROP INDEX IF EXISTS {search.PG_VECTOR_INDEX}")
    op.execute(f"ALTER TABLE mention DROP COLUMN IF EXISTS {search.PG_VECTOR_COLUMN}")
