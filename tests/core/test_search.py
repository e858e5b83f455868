"""Free-text search of mentions: SQLite FTS5 and PostgreSQL full-text search, one query language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from monitor.cli import main
from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store.queries import MentionFilter, find_mentions
from monitor.store.search import parse_query

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POSTS = {
    "a": "Acme charged me twice for one order",
    "b": "twice now Acme has charged the wrong card",
    "c": "Still waiting for my refund from Acme",
    "d": "Acme refunds are quick, thank you",
    "e": "Café Acme: the crème brûlée was great",
    "f": "nothing to see here, Acme",
}


@pytest.fixture
def stored(engine) -> dict[str, int]:
    p = Pipeline(engine, parse_config({"brand": {"names": ["Acme"]}}), clock=lambda: T0)
    mentions = [
        Mention("x", key, body, T0 + timedelta(minutes=i), f"author_{key}")
        for i, (key, body) in enumerate(POSTS.items())
    ]
    result = p.ingest(mentions, source="x")
    return {key: mention_id for key, mention_id in zip(POSTS, result.stored_ids, strict=True)}


def found(engine, query: str) -> set[str]:
    rows = find_mentions(engine, MentionFilter(search=query, limit=100))
    return {r["external_id"] for r in rows}


def test_words_are_stemmed_and_all_required(engine, stored):
    assert found(engine, "refund") == {"c", "d"}  # "refunds" too
    assert found(engine, "charging") == {"a", "b"}  # charged ~ charging
    assert found(engine, "refund waiting") == {"c"}
    assert found(engine, "REFUND") == {"c", "d"}


def test_prefix_and_quoted_phrases(engine, stored):
    assert found(engine, "refu*") == {"c", "d"}
    assert found(engine, '"charged me twice"') == {"a"}
    assert found(engine, '"twice charged"') == set()
    assert found(engine, '"charged twice"') == set()  # "charged me twice" is not adjacent
    assert found(engine, '"waiting for my"') == {"c"}


def test_author_handles_are_searched(engine, stored):
    assert found(engine, "author_c") == {"c"}
    assert found(engine, "author_*") == set(POSTS)


def test_newest_first_and_other_filters_combine(engine, stored):
    rows = find_mentions(engine, MentionFilter(search="acme", limit=3))
    assert [r["external_id"] for r in rows] == ["f", "e", "d"]
    assert {
        r["external_id"]
        for r in find_mentions(engine, MentionFilter(search="acme", since=T0 + timedelta(minutes=4)))
    } == {"e", "f"}


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unclosed phrase',
        "AND",
        "OR NOT",
        "NEAR(refund waiting)",
        "refund -waiting",
        "(refund",
        "*",
        "refund:*",
        "'; drop table mention; --",
        "a & b | !c <-> d",
        "\\",
        "^refund",
        "col:refund",
        "{text}: refund",
        "🙂",
        "",
    ],
)
def test_special_characters_never_raise(engine, stored, query):
    rows = find_mentions(engine, MentionFilter(search=query, limit=5))
    assert isinstance(rows, list)
    if query and not parse_query(query):
        assert rows == []  # nothing to search for matches nothing (an empty --search is no filter)


def test_operators_are_plain_words(engine, stored):
    assert found(engine, "refund -waiting") == {"c"}  # "-" separates; both words required
    # NEAR is a word here (FTS5 syntax not interpreted), and no post has it. (PostgreSQL drops
    # English stop words such as "or"/"and" from queries; SQLite keeps every word.)
    assert found(engine, "refund NEAR waiting") == set()


def test_every_stored_mention_is_indexed_via_pipeline_and_import(engine, db_url, stored, tmp_path, capsys):
    csv = tmp_path / "old.csv"
    csv.write_text(
        "text,author,created_at,external_id\n"
        '"zebracorn sighting at Acme",importer_one,2026-10-01T10:00:00Z,i1\n'
        '"second zebracorn, Acme again",importer_two,2026-10-02T10:00:00Z,i2\n',
        encoding="utf-8",
    )
    assert main(["import", str(csv), "--db", db_url, "--quiet"]) == 0
    capsys.readouterr()
    assert found(engine, "zebracorn") == {"i1", "i2"}
    assert found(engine, "importer_two") == {"i2"}
    with engine.connect() as conn:
        mentions = conn.execute(text("select count(*) from mention")).scalar()
        if engine.dialect.name == "sqlite":
            indexed = conn.execute(text("select count(*) from mention_fts_docsize")).scalar()
            assert indexed == mentions == len(POSTS) + 2
        else:
            indexes = dict(
                conn.execute(
                    text("select indexname, indexdef from pg_indexes where schemaname = current_schema()")
                ).all()
            )
            assert "gin (search_vector)" in indexes["ix_mention_search_vector"].lower()
            assert "ix_mention_fulltext" not in indexes  # 0013 replaced 0006's expression index
            stored = conn.execute(
                text("select count(*) from mention where search_vector is not null")
            ).scalar()
            assert stored == mentions == len(POSTS) + 2
    # The CLI's --search goes through the same index.
    assert main(["mentions", "--db", db_url, "--search", "zebracorn", "--format", "json"]) == 0
    assert capsys.readouterr().out.count('"external_id"') == 2


def test_sqlite_accents_fold(engine, stored):
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's english configuration keeps accents (no unaccent extension)")
    assert found(engine, "creme brulee") == {"e"}
    assert found(engine, "café") == {"e"}


def test_postgres_candidates_equal_the_plain_query(pg_url, monkeypatch):
    """Each PostgreSQL path (newest rows' stored tsvectors, GIN for a rare word, the plain query for
    a word common only in old rows) returns exactly what ordering every match does."""
    from monitor.store import search
    from monitor.store.db import make_engine, migrate

    engine = make_engine(pg_url)
    migrate(engine)
    p = Pipeline(engine, parse_config({"brand": {"names": ["Acme"]}}), clock=lambda: T0)
    # "refund" everywhere; "late" only in old posts; "rare" in two; same-time ties across ids.
    p.ingest(
        [
            Mention(
                "x",
                f"m{i}",
                f"Acme refund {'late' if i < 30 else 'now'} {'rare' if i in (3, 41) else ''} {i}",
                T0 + timedelta(minutes=i // 2),
                f"u{i}",
            )
            for i in range(60)
        ],
        source="x",
    )
    cases = [
        MentionFilter(search="refund", limit=5),
        MentionFilter(search="refund", limit=7, offset=4),
        MentionFilter(search="late", limit=6),
        MentionFilter(search="rare", limit=5),
        MentionFilter(search='"acme refund" now', status="new", limit=5),
        MentionFilter(search="late", since=T0 + timedelta(minutes=10), limit=3),
    ]
    monkeypatch.setattr(search, "PG_WINDOW", 10**6)
    monkeypatch.setattr(search, "PG_SCAN", 10**6)
    everything = [[r["id"] for r in find_mentions(engine, f)] for f in cases]
    # The plain query alone (no shortcut): the reference.
    monkeypatch.setattr(search, "PG_SCAN", 0)
    monkeypatch.setattr(search, "PG_WINDOW", 0)
    plain = [[r["id"] for r in find_mentions(engine, f)] for f in cases]
    assert everything == plain and plain[2] and plain[3]
    for scan, window in ((8, 1), (8, 4), (20, 40), (1, 3)):
        monkeypatch.setattr(search, "PG_SCAN", scan)
        monkeypatch.setattr(search, "PG_WINDOW", window)
        assert [[r["id"] for r in find_mentions(engine, f)] for f in cases] == plain, (scan, window)
    engine.dispose()


def test_windowed_sqlite_search_equals_the_plain_query(sqlite_url, monkeypatch):
    """The bounded-window shortcut for common words returns exactly what ordering every match does."""
    from monitor.store import search
    from monitor.store.db import make_engine, migrate

    engine = make_engine(sqlite_url)
    migrate(engine)
    p = Pipeline(engine, parse_config({"brand": {"names": ["Acme"]}}), clock=lambda: T0)
    # Ids out of time order: a late page of recent posts, then an import of old ones, then live ones.
    batches = [range(0, 20), range(20, 40), range(40, 60)]
    offsets = [timedelta(hours=5), timedelta(days=-30), timedelta(hours=1)]
    for batch, shift in zip(batches, offsets, strict=True):
        p.ingest(
            [
                Mention(
                    "x",
                    f"m{i}",
                    f"Acme refund {'late' if i % 3 else 'now'} {i}",
                    T0 + shift + timedelta(minutes=i % 7),
                    f"u{i}",
                )
                for i in batch
            ],
            source="x",
        )
    with engine.begin() as conn:  # a filter that drops most matches of any window
        conn.execute(text("UPDATE mention SET assignee = 'dana' WHERE id % 9 = 0"))
    cases = [
        MentionFilter(search="refund", limit=5),
        MentionFilter(search="refund", limit=7, offset=4),
        MentionFilter(search="late", limit=6),
        MentionFilter(search="refund", status="new", limit=5),
        MentionFilter(search="now", since=T0, limit=3),
        MentionFilter(search="refund", assignee="dana", limit=5),
        MentionFilter(search="late", assignee="dana", status="new", limit=3, offset=1),
        MentionFilter(search="refund", assignee="nobody", limit=5),  # no match at all
    ]
    plain = [plain_ids(engine, f) for f in cases]
    assert [[r["id"] for r in find_mentions(engine, f)] for f in cases] == plain
    assert plain[5] and plain[6] and not plain[7]
    for window in (2, 5, 9):
        for scan_all in (0, 10**6):  # every match read by id, or the plain query
            monkeypatch.setattr(search, "WINDOW", window)
            monkeypatch.setattr(search, "STRAGGLERS", 4)
            monkeypatch.setattr(search, "SCAN_ALL", scan_all)
            got = [[r["id"] for r in find_mentions(engine, f)] for f in cases]
            assert got == plain, (window, scan_all)
    engine.dispose()


def plain_ids(engine, f: MentionFilter) -> list[int]:
    """The straightforward query: every filter and the full-text match in one WHERE, sorted, cut."""
    from sqlalchemy import desc, select

    from monitor.store import tables
    from monitor.store.queries import _filtered

    t = tables.mention
    q = _filtered(select(t.c.id), f, engine.dialect.name)
    q = q.order_by(desc(t.c.created_at), desc(t.c.id)).limit(f.limit).offset(f.offset)
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())
