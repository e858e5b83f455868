"""Full-text search of mentions: SQLite FTS5 table + triggers, PostgreSQL tsvector GIN index

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 03:30:00
"""

from collections.abc import Sequence

from alembic import op

from monitor.store import search

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(search.SQLITE_TABLE)
        for ddl in search.SQLITE_TRIGGERS:
            op.execute(ddl)
        op.execute(search.SQLITE_REBUILD)  # index the mentions already stored
    elif dialect == "postgresql":
        op.execute(search.PG_CREATE_INDEX)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {search.FTS_TABLE}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {search.FTS_TABLE}")
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {search.PG_INDEX}")
