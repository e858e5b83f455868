"""Storage: the SQLModel tables, the engine (SQLite WAL or PostgreSQL) and migrations."""
