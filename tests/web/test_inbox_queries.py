"""The inbox's reads on SQLite and PostgreSQL: keyset pages see every mention once, counts, filters."""

from __future__ import annotations

from dataclasses import replace
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


def _scan_counts(engine, f: InboxFilter) -> dict[str, dict[str, int]]:
    """Every facet's counts by reading every matching row (what ``inbox_count`` must agree with)."""
    out: dict[str, dict[str, int]] = {}
    for name, values in (*store.FACETS.items(), ("platform", ("reddit", "x"))):
        out[name] = {v: len(_all_pages(engine, replace(f, **{name: v}), size=500)) for v in values}
    return out


def test_counts_are_exact_from_the_count_table_through_inserts_updates_and_deletes(engine):
    from sqlalchemy import delete, update

    from monitor import workflow
    from monitor.store import inbox_counts

    _seed(engine)
    t = m.Mention.__table__
    views = [
        InboxFilter(),
        InboxFilter(label="complaint", status="open"),
        InboxFilter(assignee="-", platform="x"),
    ]

    def check() -> None:
        for f in views:
            got = store.facet_counts(
                engine, f, ["reddit", "x"], cap=5
            )  # cap: the sampled path would say "5+"
            assert {k: {v: c.n for v, c in vals.items()} for k, vals in got.items()} == _scan_counts(
                engine, f
            )
            assert all(c.exact for vals in got.values() for c in vals.values())
            assert store.total_count(engine, f) == store.Count(len(_all_pages(engine, f, size=500)))

    check()
    workflow.transition(engine, [1, 2, 3, 4], "resolve", actor="alice", now=NOW)
    workflow.assign(engine, [5, 6], "bob", actor="alice", now=NOW)
    with engine.begin() as conn:  # plain SQL, several rows and columns at once
        conn.execute(update(t).where(t.c.id > 100).values(label="spam", priority=None, claimed_by="chen"))
        conn.execute(delete(t).where(t.c.id.in_([7, 8, 9])))
        conn.execute(update(t).where(t.c.id == 10).values(text="edited"))  # no counted column: no delta
    check()
    assert inbox_counts.fold(engine) is True
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM inbox_count_delta").scalar() == 0
    check()


def test_a_postgres_fold_leaves_the_delta_log_vacuumed_and_analysed(pg_url):
    """The folded deltas are dead rows that every count read would scan (and plan for) until a
    vacuum: the fold vacuums and analyses the log itself (autovacuum may be off or late).
    PostgreSQL only: SQLite reuses deleted rows' pages itself."""
    from monitor.store import inbox_counts
    from monitor.store.db import make_engine, migrate

    engine = make_engine(pg_url)
    migrate(engine)
    _seed(engine)
    stats = (
        "SELECT c.reltuples, s.last_vacuum IS NOT NULL FROM pg_class c JOIN pg_stat_user_tables s "
        "ON s.relid = c.oid WHERE c.oid = 'inbox_count_delta'::regclass"
    )
    with engine.connect() as conn:
        assert conn.exec_driver_sql(stats).one() == (-1, False)  # never vacuumed nor analysed
    assert inbox_counts.fold(engine) is True
    with engine.connect() as conn:
        assert conn.exec_driver_sql(stats).one() == (0, True)  # vacuumed; analysed as empty
    assert store.total_count(engine, InboxFilter()) == store.Count(130)
    engine.dispose()


def test_concurrent_folds_beside_writers_neither_fail_nor_count_twice(engine):
    """Folds race each other and the writers (a page view folds a long log): no error, exact counts."""
    import threading

    from monitor import workflow
    from monitor.store import inbox_counts

    _seed(engine)
    errors: list[BaseException] = []
    stop = threading.Event()

    def folder() -> None:
        try:
            while not stop.is_set():
                inbox_counts.fold(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=folder) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for i in range(1, 121, 4):
            action = ("resolve", "reopen", "acknowledge")[i % 3]
            workflow.transition(engine, [i, i + 1, i + 2], action, actor="alice", now=NOW)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    inbox_counts.fold(engine)
    for f in (InboxFilter(), InboxFilter(status="open"), InboxFilter(label="complaint", status="resolved")):
        got = store.facet_counts(engine, f, ["reddit", "x"], cap=5)
        assert {k: {v: c.n for v, c in vals.items()} for k, vals in got.items()} == _scan_counts(engine, f)


def test_severity_counts_are_exact_from_the_count_table(engine):
    """Severity is a counted column: severity-filtered counts equal a COUNT over ``mention`` through
    inserts, triage setting severities, relabels (with the team's severity) and status changes."""
    from sqlalchemy import case, func, select, update

    from monitor import workflow
    from monitor.labelfile import LabelRow
    from monitor.store import inbox_counts

    _seed(engine)
    t = m.Mention.__table__
    by_priority = case((t.c.priority == "P1", "severe"), (t.c.priority == "P2", "moderate"), else_="mild")
    with engine.begin() as conn:  # triage's severity of the complaints, from their priority
        conn.execute(update(t).where(t.c.label == "complaint").values(severity=by_priority))
        conn.execute(
            t.insert(),
            [
                dict(
                    platform="reddit",
                    external_id=f"sev{i}",
                    source="s",
                    author_handle="late",
                    text="late complaint",
                    created_at=NOW + timedelta(minutes=i + 1),
                    fetched_at=NOW,
                    label="complaint",
                    severity=("severe", "moderate", "mild")[i % 3],
                    priority="P2",
                    reasons=[],
                    status="new",
                    raw={},
                    version=0,
                    addressed_to_brand=False,
                )
                for i in range(7)
            ],
        )
    views = [
        InboxFilter(severity="severe"),
        InboxFilter(severity="mild", status="open"),
        InboxFilter(severity="moderate", platform="reddit", assignee="-"),
        InboxFilter(label="complaint", severity="severe", priority="P1"),
    ]

    def counted(f: InboxFilter) -> int:
        from monitor.store import tables

        query = store._where(select(func.count()).select_from(tables.mention), f)
        with engine.connect() as conn:
            return int(conn.execute(query).scalar())

    def check() -> None:
        for sev in ("severe", "moderate", "mild"):
            with engine.connect() as conn:
                expect = conn.execute(select(func.count()).where(t.c.severity == sev)).scalar()
            assert store.total_count(engine, InboxFilter(severity=sev)) == store.Count(expect)
        for f in views:
            assert store.exact_counts(engine, f) is not None  # answered by the table, not sampled
            assert store.total_count(engine, f) == store.Count(counted(f))
            got = store.facet_counts(engine, f, ["reddit", "x"], cap=5)
            assert {k: {v: c.n for v, c in vals.items()} for k, vals in got.items()} == _scan_counts(
                engine, f
            )
            assert all(c.exact for vals in got.values() for c in vals.values())

    check()
    assert store.total_count(engine, InboxFilter(severity="severe")).n > 5  # the cap would show "5+"
    severe = [r["id"] for r in _all_pages(engine, InboxFilter(severity="severe"))]
    # The team relabels and the mention shows it: another label clears the severity, the team's
    # severity with complaint replaces triage's (one, many, a label file), complaint alone keeps it.
    assert workflow.correct_label(engine, severe[0], "question", actor="alice").result == "changed"
    assert workflow.correct_label(engine, severe[1], "complaint", actor="alice", severity="mild").result == (
        "changed"
    )
    assert {o.result for o in workflow.correct_labels(engine, severe[9:12], "spam", actor="alice")} == {
        "changed"
    }
    rows = [  # a label file: a new severity, another label, complaint alone
        LabelRow(
            line=2, mention_id=severe[12], platform="", external_id="", label="complaint", severity="mild"
        ),
        LabelRow(line=3, mention_id=severe[13], platform="", external_id="", label="praise"),
        LabelRow(line=4, mention_id=severe[14], platform="", external_id="", label="complaint"),
    ]
    report = workflow.apply_label_rows(engine, rows, actor="alice")
    assert (report.changed, report.errors) == (3, [])  # complaint alone: triage's verdict confirmed
    with engine.connect() as conn:
        now = {r.id: (r.label, r.severity) for r in conn.execute(select(t.c.id, t.c.label, t.c.severity))}
    assert now[severe[0]] == ("question", None) and now[severe[1]] == ("complaint", "mild")
    assert {now[i] for i in severe[9:12]} == {("spam", None)}
    assert now[severe[12]] == ("complaint", "mild") and now[severe[13]] == ("praise", None)
    assert now[severe[14]] == ("complaint", "severe")
    workflow.transition(engine, severe[2:5], "resolve", actor="alice", now=NOW)
    workflow.assign(engine, severe[5:7], "bob", actor="alice", now=NOW)
    with engine.begin() as conn:  # plain SQL: a severity changes, one is cleared
        conn.execute(update(t).where(t.c.id == severe[7]).values(severity="mild"))
        conn.execute(update(t).where(t.c.id == severe[8]).values(severity=None, label="neutral"))
    check()
    assert inbox_counts.fold(engine) is True
    check()
    with engine.connect() as conn:  # few combinations: severity only splits the complaints
        combos = conn.exec_driver_sql("SELECT count(*) FROM inbox_count").scalar()
        without = conn.exec_driver_sql(
            "SELECT count(*) FROM (SELECT DISTINCT platform, label, priority, status, assignee, claimed_by "
            "FROM inbox_count) AS c"
        ).scalar()
    assert combos <= 3 * without


def test_count_table_survives_a_rebuild_of_the_mention_table_on_sqlite(tmp_path):
    from monitor.store import inbox_counts
    from monitor.store.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    _seed(engine, 20)
    with engine.begin() as conn:  # what a batch ALTER that recreates the table leaves behind
        for ddl in inbox_counts.SQLITE_DROP:
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql("DELETE FROM mention WHERE id <= 5")
    migrate(engine)  # already at the newest revision: returns early, so re-check the triggers directly
    with engine.begin() as conn:
        inbox_counts.ensure_triggers(conn)
    assert store.total_count(engine, InboxFilter()) == store.Count(15)
    _seed_more = m.Mention.__table__.insert().values(
        platform="x",
        external_id="late",
        source="s",
        author_handle="u",
        text="t",
        created_at=NOW,
        fetched_at=NOW,
        reasons=[],
        status="new",
        raw={},
        version=0,
        addressed_to_brand=False,
    )
    with engine.begin() as conn:
        conn.execute(_seed_more)
    assert store.total_count(engine, InboxFilter(status="new")).n == len(
        _all_pages(engine, InboxFilter(status="new"), size=500)
    )


def test_export_streams_every_row_once_in_order_across_batches(engine, monkeypatch):
    _seed(engine)
    monkeypatch.setattr(store, "EXPORT_BATCH", 7)  # many batches, ties on created_at across their edges
    monkeypatch.setattr(store, "EXPORT_FIRST", 3)  # a smaller first batch
    rows = list(store.export_rows(engine, InboxFilter()))
    assert [r["id"] for r in rows] == [r["id"] for r in _all_pages(engine, InboxFilter())]
    assert len({r["id"] for r in rows}) == 130
    complaints = list(store.export_rows(engine, InboxFilter(label="complaint"), limit=10))
    assert len(complaints) == 10 and {r["label"] for r in complaints} == {"complaint"}


def test_search_is_the_same_through_the_id_list_and_the_full_text_condition(engine, monkeypatch):
    """Few matches are answered from their ids; many through the full-text condition (and, on SQLite
    for the newest-first list, a proved window of the newest matches). Both give the same pages."""
    _seed(engine)
    views = [
        InboxFilter(q="hello"),
        InboxFilter(q="refund", label="complaint"),
        InboxFilter(q="hello", sort="urgency"),
        InboxFilter(q="user3"),  # the author's handle is searched too
    ]
    few = [[r["id"] for r in _all_pages(engine, f, size=9)] for f in views]
    few_counts = [store.total_count(engine, f) for f in views]
    monkeypatch.setattr(store, "SEARCH_FEW", 3)
    monkeypatch.setattr("monitor.store.search.PG_WINDOW", 3)
    monkeypatch.setattr("monitor.store.search.WINDOW", 20)
    assert [[r["id"] for r in _all_pages(engine, f, size=9)] for f in views] == few
    assert few[0] and len(few[1]) == 5 and len(few[3]) == 19
    assert few_counts[1] == store.Count(5)
    for many, exact in zip([store.total_count(engine, f) for f in views], few_counts, strict=True):
        # Many matches: counted among the newest ones on SQLite ("n+", a lower bound).
        assert many == exact or (not many.exact and many.n <= exact.n)
    assert _all_pages(engine, InboxFilter(q="zzqxv")) == []


def _plain_pages(engine, f: InboxFilter) -> list[int]:
    """The straightforward query: every filter and the full-text condition in one WHERE, sorted."""
    from sqlalchemy import select

    from monitor.store import search, tables

    t = tables.mention
    matched = replace(f, text_match=(search.search_clause(engine.dialect.name, f.q), False, None))
    q = store._where(select(t.c.id), matched)
    if f.sort == "urgency":
        order = [t.c.urgency.is_(None), t.c.urgency.desc(), t.c.created_at.desc(), t.c.id.desc()]
    else:
        order = [t.c.created_at.desc(), t.c.id.desc()]
    with engine.connect() as conn:
        return list(conn.execute(q.order_by(*order)).scalars())


def test_search_with_filters_that_drop_most_matches_equals_the_plain_query(engine, monkeypatch):
    """A common word with other filters, through each path (id list, newest-match window, every
    match read by id, the plain query), pages exactly like one query with every condition; and a
    search sorted by urgency too."""
    _seed(engine)
    views = [
        InboxFilter(q="hello", label="complaint"),
        InboxFilter(q="hello", author="user3"),  # 1 in 7: fewer than a page in any small window
        InboxFilter(q="hello", label="praise", status="resolved", assignee="alice"),
        InboxFilter(q="refund", label="praise", status="new"),  # no match at all
        InboxFilter(q="hello", platform="reddit", sort="urgency"),
        InboxFilter(q="refund", sort="urgency"),
    ]
    plain = [_plain_pages(engine, f) for f in views]
    assert all(plain[i] for i in (0, 1, 2, 4, 5)) and plain[3] == []
    assert [[r["id"] for r in _all_pages(engine, f, size=9)] for f in views] == plain
    monkeypatch.setattr(store, "SEARCH_FEW", 3)  # every view now searches a "common" word
    monkeypatch.setattr("monitor.store.search.PG_WINDOW", 3)
    for window, scan_all in ((20, 10**6), (20, 0), (4, 10**6), (200, 10**6)):
        monkeypatch.setattr("monitor.store.search.WINDOW", window)
        monkeypatch.setattr("monitor.store.search.SCAN_ALL", scan_all)
        got = [[r["id"] for r in _all_pages(engine, f, size=9)] for f in views]
        assert got == plain, (window, scan_all)


def test_urgency_pages_are_the_same_sorted_here_or_walked_along_the_index(engine, monkeypatch):
    _seed(engine)
    views = [
        InboxFilter(sort="urgency"),
        InboxFilter(sort="urgency", label="complaint", status="open"),
        InboxFilter(sort="urgency", label="praise"),  # walks ix_mention_label_urgency
        InboxFilter(sort="urgency", label="question", platform="x", assignee="-"),
    ]
    sorted_here = [[r["id"] for r in _all_pages(engine, f, size=7)] for f in views]
    monkeypatch.setattr(store, "URGENCY_SORT_AT", 5)  # every view now walks an urgency index
    assert [[r["id"] for r in _all_pages(engine, f, size=7)] for f in views] == sorted_here
    assert len(sorted_here[0]) == 130 and all(sorted_here)
    # The same order as one plain query sorting every match.
    from sqlalchemy import select

    from monitor.store import tables

    t = tables.mention
    order = [t.c.urgency.is_(None), t.c.urgency.desc(), t.c.created_at.desc(), t.c.id.desc()]
    with engine.connect() as conn:
        plain = [
            list(conn.execute(store._where(select(t.c.id), f).order_by(*order)).scalars()) for f in views
        ]
    assert sorted_here == plain


def test_sampled_counts_with_a_date_range_agree_with_a_scan(engine):
    _seed(engine)
    for f in (
        InboxFilter(since=NOW - timedelta(minutes=60)),
        InboxFilter(label="praise", since=NOW - timedelta(minutes=90)),
    ):
        got = store.facet_counts(engine, f, ["reddit", "x"], cap=5)  # sampled: the table cannot filter dates
        scan = _scan_counts(engine, f)
        for name, values in got.items():
            for value, c in values.items():
                assert (c.n == scan[name][value]) if c.exact else (c.n <= scan[name][value])
        if f.label:
            assert got["priority"]["P1"] == store.Count(0)  # praise is never P1 here: bounded by the table
