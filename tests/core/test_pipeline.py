"""The pipeline on real databases: dedupe, one transaction, author history, routing rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import models as m

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def config(**alerts):
    return parse_config(
        {
            "brand": {
                "names": ["Acme"],
                "handles": {"x": ["acme"]},
                "exclusions": ["acme looney"],
                "muted_authors": {"x": ["bot"]},
            },
            "alerts": alerts
            or {
                "routes": [
                    {
                        "name": "urgent",
                        "match": {"priority": "P1"},
                        "notify": ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"],
                    },
                ]
            },
        }
    )


def mention(n: int, text: str = "Acme is fine", author: str = "alice", **kw) -> Mention:
    return Mention("x", str(n), text, NOW - timedelta(minutes=60 - n), author, **kw)


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__)).scalar()


def test_dedupe_within_page_and_against_store(engine):
    p = Pipeline(engine, config(), clock=lambda: NOW)
    first = p.ingest([mention(1), mention(2), mention(2)], source="x")
    assert (first.stored, first.duplicates) == (2, 1)
    again = p.ingest([mention(2), mention(3)], source="x")
    assert (again.stored, again.duplicates) == (1, 1)
    assert count(engine, m.Mention) == 3


def test_noise_filtered_and_counted(engine):
    p = Pipeline(engine, config(), clock=lambda: NOW)
    r = p.ingest(
        [
            mention(1, author="acme"),
            mention(2, author="bot"),
            mention(3, text="Watching Acme Looney Tunes"),
            mention(4),
        ],
        source="x",
    )
    assert r.stored == 1
    assert dict(r.filtered) == {"own_post": 1, "muted_author": 1, "excluded_term": 1}


def test_mention_alerts_and_cursor_commit_together(engine):
    angry = "@acme you charged me twice, this is a scam and I am calling my lawyer!!! Refund me now"
    p = Pipeline(engine, config(), clock=lambda: NOW)
    r = p.ingest(
        [mention(1, angry, author="carol", author_followers=50_000, addressed_to_brand=True), mention(2)],
        source="x",
        cursor_update={"platform": "x", "cursor": {"since_id": "2"}},
    )
    assert r.stored == 2 and r.alerts == 1
    with engine.connect() as conn:
        alert = conn.execute(select(m.AlertOutbox.__table__)).mappings().one()
        deliveries = conn.execute(select(m.AlertDelivery.__table__)).mappings().all()
        cursor = conn.execute(select(m.SourceCursor.__table__)).mappings().one()
        stored = (
            conn.execute(select(m.Mention.__table__).where(m.Mention.__table__.c.id == alert["mention_id"]))
            .mappings()
            .one()
        )
    assert alert["route"] == "urgent" and alert["priority"] == "P1"
    assert stored["author_handle"] == "carol" and stored["label"] == "complaint" and stored["reasons"]
    assert sorted(d["destination"].split(":")[0] for d in deliveries) == ["urgent/0", "urgent/1"]
    assert all(d["status"] == "pending" for d in deliveries)
    assert "127.0.0.1" in deliveries[0]["destination_label"]
    assert cursor["cursor"] == {"since_id": "2"} and cursor["mentions_total"] == 2


def test_failed_transaction_leaves_nothing_behind(engine):
    """A failure inside the store step rolls back mentions, alerts and the cursor together."""
    p = Pipeline(engine, config(), clock=lambda: NOW)
    bad_cursor = {"platform": "x", "cursor": {"since_id": "9"}, "no_such_column": 1}
    with pytest.raises(Exception):  # noqa: B017 - any database error will do
        p.ingest(
            [mention(1, "@acme charged twice, refund now, lawyer!!!", author_followers=90_000)],
            source="x",
            cursor_update=bad_cursor,
        )
    assert count(engine, m.Mention) == 0
    assert count(engine, m.AlertOutbox) == 0 and count(engine, m.AlertDelivery) == 0
    assert count(engine, m.SourceCursor) == 0 and count(engine, m.Author) == 0


def test_repeat_complainer_history_feeds_triage(engine):
    p = Pipeline(engine, config(), clock=lambda: NOW)
    text = "@acme my order still hasn't arrived and nobody answers. This is terrible service."
    p.ingest([mention(1, text, author="dave")], source="x")
    p.ingest([mention(2, text + " Again.", author="dave")], source="x")
    r = p.ingest([mention(3, text + " Third time.", author="dave")], source="x")
    with engine.connect() as conn:
        row = (
            conn.execute(select(m.Mention.__table__).where(m.Mention.__table__.c.id == r.stored_ids[0]))
            .mappings()
            .one()
        )
        author = conn.execute(select(m.Author.__table__)).mappings().one()
    assert any("3rd complaint" in reason for reason in row["reasons"]), row["reasons"]
    assert (author["mentions_total"], author["complaints_total"]) == (3, 3)


def test_routing_all_vs_first(engine):
    routes = [
        {"name": "complaints", "match": {"labels": ["complaint"]}, "notify": ["json://127.0.0.1:9/c"]},
        {"name": "everything", "notify": ["json://127.0.0.1:9/e"]},
    ]
    text = "@acme the app crashes every time I pay, broken for days, fix it"
    first = Pipeline(engine, config(routing="first", routes=routes), clock=lambda: NOW)
    assert first.ingest([mention(1, text, author="erin")], source="x").alerts == 1
    both = Pipeline(engine, config(routing="all", routes=routes), clock=lambda: NOW)
    assert both.ingest([mention(2, text, author="fred")], source="x").alerts == 2


def test_import_does_not_alert_unless_asked(engine):
    p = Pipeline(engine, config(), clock=lambda: NOW, alerts_enabled=False)
    r = p.ingest(
        [mention(1, "@acme charged twice!!! lawyer, scam, refund", author_followers=90_000)], source="x"
    )
    assert r.stored == 1 and r.alerts == 0 and count(engine, m.AlertOutbox) == 0


def test_complaints_older_than_a_day_do_not_count_as_repeats(engine):
    p = Pipeline(engine, config(), clock=lambda: NOW)
    text = "@acme my order still hasn't arrived and nobody answers. This is terrible service."
    old = Mention("x", "old", text, NOW - timedelta(hours=30), "gus")
    p.ingest([old], source="x")
    r = p.ingest([Mention("x", "new", text + " Again.", NOW, "gus")], source="x")
    with engine.connect() as conn:
        row = (
            conn.execute(select(m.Mention.__table__).where(m.Mention.__table__.c.id == r.stored_ids[0]))
            .mappings()
            .one()
        )
        author = conn.execute(select(m.Author.__table__)).mappings().one()
    assert not any("complaint in 24 h" in reason for reason in row["reasons"]), row["reasons"]
    assert author["complaints_total"] == 2 and author["recent_complaints"] == [NOW.isoformat()]
