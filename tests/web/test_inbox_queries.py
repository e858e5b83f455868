"""The inbox's reads on SQLite and PostgreSQL: keyset pages see every mention once, counts, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.store import inbox as store
from monitor.store import models as m
from monitor.store.inbox import InboxFilter

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def _seed(engine, n: int = 130) -> None:
    rows = []
    for i in range(n):
        rows.append(
            dict(
                platform="x" if i % 3 else "reddit",
                external_id=f"e{i}",
                source="s",
                author_handle=f"user{i % 7}",
                text=f"hello 100% refund_{i}" if i % 10 == 0 else f"hello acme {i}",
                # Every fifth pair shares a timestamp: the id breaks the tie.
                created_at=NOW - timedelta(minutes=i - i % 2),
                fetched_at=NOW,
                label=("complaint", "question", "praise")[i % 3],
                urgency=None if i % 11 == 0 else i % 50,
                priority=("P1", "P2", "P3")[i % 3],
                reasons=[],
                status=("new", "acknowledged", "resolved")[i % 3],
                assignee="alice" if i % 4 == 0 else None,
                raw={},
                version=0,
                addressed_to_brand=False,
            )
        )
    with engine.begin() as conn:
        conn.execute(m.Mention.__table__.insert(), rows)


def _all_pages(engine, f: InboxFilter, size: int = 17) -> list[dict]:
    seen, after = [], None
    while True:
        rows, after = store.inbox_page(engine, f, after=after, limit=size)
        seen += rows
        if after is None:
            return seen


def test_keyset_pages_cover_everything_once_in_order(engine):
    _seed(engine)
    by_age = _all_pages(engine, InboxFilter())
    assert len(by_age) == 130 and len({r["id"] for r in by_age}) == 130
    keys = [(r["created_at"], r["id"]) for r in by_age]
    assert keys == sorted(keys, reverse=True)

    by_urgency = _all_pages(engine, InboxFilter(sort="urgency"))
    assert len({r["id"] for r in by_urgency}) == 130
    scored = [r for r in by_urgency if r["urgency"] is not None]
    assert by_urgency[: len(scored)] == scored  # unscored last
    assert [r["urgency"] for r in scored] == sorted((r["urgency"] for r in scored), reverse=True)

    complaints = _all_pages(engine, InboxFilter(label="complaint", sort="urgency"), size=5)
    assert len(complaints) == len([i for i in range(130) if i % 3 == 0])


def test_counts_are_exact_when_small_and_capped_when_large(engine):
    _seed(engine)
    counts = store.facet_counts(engine, InboxFilter(), ["reddit", "x"])
    assert counts["status"]["open"] == store.Count(87) and counts["platform"]["reddit"] == store.Count(44)
    capped = store.facet_counts(engine, InboxFilter(), ["reddit", "x"], cap=50)
    assert capped["status"]["new"] == store.Count(44, True)  # under 100: counted along its index
    assert store.capped_count(engine, InboxFilter(), cap=50) == 51


def test_filters(engine):
    _seed(engine)

    def ids(**kw):
        return {r["id"] for r in _all_pages(engine, InboxFilter(**kw))}

    assert len(ids(assignee="alice")) == 33 and len(ids(assignee="-")) == 97
    assert len(ids(status="open")) == 87
    assert len(ids(author="@user3")) == len(ids(author="user3")) == 19
    assert len(ids(q="100%")) == 13  # % is a character, not a wildcard
    assert len(ids(q="refund_")) == 13 and len(ids(q="REFUND")) == 13
    assert len(ids(since=NOW - timedelta(minutes=9), until=NOW + timedelta(minutes=1))) == 10
