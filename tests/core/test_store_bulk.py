"""Page writes at the driver (monitor.store.bulk) store what a SQLAlchemy insert stores, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from monitor.store import bulk
from monitor.store import models as m
from monitor.store.db import insert_for, migrate

T0 = datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC)  # no microseconds: SQLite text must still carry them


def _row(i: int, **over):
    row = {
        "platform": "x",
        "external_id": f"id-{i}",
        "source": "x",
        "url": None,
        "author_handle": f"user_{i % 7}",
        "author_name": "Zoë Ünïcode",
        "author_id": None,
        "author_followers": i,
        "text": f"post {i} about Acme — “quoted” \\ {{braces}} 'single'",
        "language": "en",
        "created_at": T0 + timedelta(seconds=i),
        "fetched_at": T0.astimezone(timezone(timedelta(hours=2))),  # another offset: stored as UTC
        "in_reply_to_id": None,
        "conversation_id": None,
        "addressed_to_brand": i % 2 == 0,
        "raw": {"id": i, "nested": {"emoji": "🙂", "list": [1, 2.5, None, True]}, "big": 2**70},
        "polarity": -0.25,
        "subjectivity": None,
        "label": "complaint",
        "urgency": 3,
        "priority": "P2",
        "severity": None,
        "reasons": ["refund", "ünïcode"],
        "status": "new",
        "updated_at": T0,
    }
    row.update(over)
    return row


def _read(conn, ext: str) -> dict:
    t = m.Mention.__table__
    return dict(conn.execute(select(t).where(t.c.external_id == ext)).mappings().one())


def test_rows_read_back_as_sqlalchemy_writes_them(engine):
    migrate(engine)
    t = m.Mention.__table__
    with engine.begin() as conn:
        conn.execute(insert_for(engine)(t), [_row(0, external_id="via-sqlalchemy")])
        got = bulk.insert_rows(
            conn,
            t,
            [_row(i) for i in range(3)],
            on_conflict="ON CONFLICT (platform, external_id) DO NOTHING",
            returning=("id", "platform", "external_id"),
        )
    assert sorted(ext for _, _, ext in got) == ["id-0", "id-1", "id-2"]
    with engine.connect() as conn:
        reference = _read(conn, "via-sqlalchemy")
        mine = _read(conn, "id-0")
        for key in ("id", "external_id"):
            reference.pop(key), mine.pop(key)
        assert mine == reference
        assert mine["created_at"] == T0 and mine["fetched_at"] == T0
        assert mine["raw"]["big"] == 2**70 and mine["raw"]["nested"]["emoji"] == "🙂"
        assert mine["version"] == 0  # a column default, as SQLAlchemy applies it
        if engine.dialect.name == "sqlite":  # times compare as text: same text as SQLAlchemy's
            texts = conn.exec_driver_sql(
                "SELECT created_at FROM mention WHERE external_id IN ('via-sqlalchemy', 'id-0')"
            ).all()
            assert {r[0] for r in texts} == {"2026-03-01 09:30:00.000000"}


def test_conflicts_are_skipped_and_not_returned(engine):
    migrate(engine)
    t = m.Mention.__table__
    conflict = "ON CONFLICT (platform, external_id) DO NOTHING"
    with engine.begin() as conn:
        bulk.insert_rows(conn, t, [_row(1)], on_conflict=conflict)
        got = bulk.insert_rows(conn, t, [_row(1), _row(2)], on_conflict=conflict, returning=("external_id",))
    assert [r[0] for r in got] == ["id-2"]


def test_a_page_larger_than_one_sqlite_statement(engine):
    migrate(engine)
    n = bulk.SQLITE_MAX_VALUES // 25 * 2 + 7  # several statements on SQLite, one on PostgreSQL
    with engine.begin() as conn:
        got = bulk.insert_rows(conn, m.Mention.__table__, [_row(i) for i in range(n)], returning=("id",))
        keys = bulk.rows_in(
            conn,
            m.Mention.__table__,
            ["external_id", "raw"],
            where={"platform": "x"},
            column="external_id",
            values=[f"id-{i}" for i in range(0, n, 3)] + ["absent"],
        )
    assert len(got) == n
    assert sorted(k for k, _ in keys) == sorted(f"id-{i}" for i in range(0, n, 3))
    assert all(raw["nested"]["list"] == [1, 2.5, None, True] for _, raw in keys)  # JSON decoded


def test_upsert_adds_to_the_stored_row(engine):
    migrate(engine)
    t = m.Author.__table__
    upsert = (
        "ON CONFLICT (platform, handle) DO UPDATE SET "
        "mentions_total = author.mentions_total + excluded.mentions_total, "
        "recent_complaints = excluded.recent_complaints"
    )
    row = {"platform": "x", "handle": "ana", "mentions_total": 2, "recent_complaints": ["a"]}
    with engine.begin() as conn:
        bulk.insert_rows(conn, t, [row], on_conflict=upsert)
        bulk.insert_rows(
            conn, t, [{**row, "mentions_total": 3, "recent_complaints": ["b"]}], on_conflict=upsert
        )
    with engine.connect() as conn:
        stored = conn.execute(select(t.c.mentions_total, t.c.complaints_total, t.c.recent_complaints)).one()
    assert tuple(stored) == (5, 0, ["b"])


@pytest.mark.postgres
def test_postgres_refuses_a_value_too_long_instead_of_cutting_it(pg_url):
    from monitor.store.db import make_engine

    engine = make_engine(pg_url)
    migrate(engine)
    try:
        with pytest.raises(DBAPIError, match="too long"), engine.begin() as conn:
            bulk.insert_rows(conn, m.Mention.__table__, [_row(1, platform="p" * 40)])
    finally:
        engine.dispose()
