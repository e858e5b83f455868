"""Reports: business-hours arithmetic, roll-ups and every report on hand-made data (SQLite and PostgreSQL)."""
