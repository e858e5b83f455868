"""A relabel moves the mention's urgency and priority with its label: a post the team called spam,
praise or neutral leaves P1 (sort, counts, filters), triage's values stay in the audit event, and
the config's triage bases decide where it lands (CLI with -c, label files, the mention page)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monitor import workflow
from monitor.cli import main
from monitor.config import parse_config
from monitor.labelfile import LabelRow
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import inbox as store
from monitor.store import inbox_counts
from monitor.store import models as m
from monitor.store.db import make_engine, migrate
from monitor.store.inbox import InboxFilter
from monitor.triage.settings import TriageSettings

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
BRAND = {"names": ["Acme"], "handles": {"x": ["acme"]}}
# Hand-written posts; triage makes each P1 fraud one a severe P1 complaint (urgency 99).
FRAUD = [
    "@acme you charged me twice, this is fraud. My lawyer will call.",
    "@acme charged twice again and nobody answers, this is a scam, I am calling my lawyer",
    "@acme you took my money twice, that is fraud, expect a chargeback and my attorney",
    "@acme double charged AGAIN, this is theft, my lawyer hears about it today",
    "@acme third time you charged me twice. Fraud. Lawyer. Now.",
    "@acme you billed me twice and refuse a refund, this is fraud and I am suing",
]
OTHERS = [
    "@acme the app is a bit slow today, not great",  # a mild complaint, P3
    "@acme thank you, lovely service today!",  # praise, P3
]


@pytest.fixture
def stored(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    config = parse_config({"brand": BRAND})
    posts = FRAUD + OTHERS
    mentions = [
        Mention("x", f"p{i}", text, T0 + timedelta(minutes=i), f"user{i}", addressed_to_brand=True)
        for i, text in enumerate(posts)
    ]
    ids = Pipeline(engine, config, alerts_enabled=False).ingest(mentions, source="x").stored_ids
    fraud, (slow, thanks) = ids[: len(FRAUD)], ids[len(FRAUD) :]
    for i in fraud:  # triage's own verdicts, not set by the test
        assert _rank(engine, i)[:2] == ("complaint", "P1"), i
    assert _rank(engine, slow) == ("complaint", "P3", 39, "mild")
    assert _rank(engine, thanks) == ("praise", "P3", 5, None)
    yield engine, fraud, slow, thanks
    engine.dispose()


def _rank(engine, mention_id: int) -> tuple:
    t = m.Mention.__table__
    q = select(t.c.label, t.c.priority, t.c.urgency, t.c.severity).where(t.c.id == mention_id)
    with engine.connect() as conn:
        return tuple(conn.execute(q).one())


def _last_event(engine, mention_id: int) -> dict:
    e = m.Event.__table__
    q = select(e.c.detail).where(e.c.mention_id == mention_id).order_by(e.c.id.desc()).limit(1)
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()


def _check_counts(engine) -> None:
    """Counts by priority (alone and with label/status) from the count table equal COUNT(*)."""
    t = m.Mention.__table__
    views = [
        InboxFilter(priority=p, **extra)
        for p in ("P1", "P2", "P3")
        for extra in ({}, {"label": "complaint"}, {"label": "spam"}, {"status": "open"})
    ]
    for f in views:
        q = select(func.count()).select_from(t).where(t.c.priority == f.priority)
        if f.label:
            q = q.where(t.c.label == f.label)
        if f.status == "open":
            q = q.where(t.c.status.in_(["new", "acknowledged"]))
        with engine.connect() as conn:
            expect = conn.execute(q).scalar_one()
        assert store.exact_counts(engine, f) is not None  # from the count table, not sampled
        assert store.total_count(engine, f) == store.Count(expect), f
    got = store.facet_counts(engine, InboxFilter(), ["x"], cap=5)
    with engine.connect() as conn:
        by_priority = dict(conn.execute(select(t.c.priority, func.count()).group_by(t.c.priority)).all())
    assert {p: c.n for p, c in got["priority"].items() if c.n} == by_priority


def test_spam_praise_and_neutral_leave_p1_with_triage_kept_in_the_event(db_url, stored, capsys) -> None:
    engine, fraud, slow, _ = stored
    _check_counts(engine)
    base = TriageSettings().urgency
    # One id (CLI), many ids (one transaction), the bulk form, a label file: every path.
    assert main(["label", str(fraud[0]), "spam", "--db", db_url, "--as", "ann"]) == 0
    assert "label spam, no severity (was severe), P3 (was P1)" in capsys.readouterr().out
    assert {o.result for o in workflow.correct_labels(engine, fraud[1:3], "praise", actor="ann")} == {
        "changed"
    }
    assert workflow.bulk(engine, [fraud[3]], "label", label="neutral", actor="ann").changed == 1
    rows = [LabelRow(line=2, mention_id=fraud[4], platform="", external_id="", label="spam")]
    assert workflow.apply_label_rows(engine, rows, actor="ann").changed == 1
    assert _rank(engine, fraud[0]) == ("spam", "P3", base.base_spam, None)
    assert {_rank(engine, i) for i in fraud[1:3]} == {("praise", "P3", base.base_praise, None)}
    assert _rank(engine, fraud[3]) == ("neutral", "P3", base.base_neutral, None)
    assert _rank(engine, fraud[4]) == ("spam", "P3", base.base_spam, None)
    assert _rank(engine, fraud[5])[:2] == ("complaint", "P1")  # not relabelled
    # Nothing is lost: triage's priority and urgency are in the audit event, and `show` says so.
    assert _last_event(engine, fraud[0]) == {
        "before": "complaint",
        "after": "spam",
        "severity_before": "severe",
        "severity_after": None,
        "priority_before": "P1",
        "priority_after": "P3",
        "urgency_before": 99,
        "urgency_after": 0,
    }
    assert main(["show", str(fraud[0]), "--db", db_url]) == 0
    assert "relabel complaint → spam (severity severe → —) (priority P1 → P3, urgency 99 → 0)" in (
        capsys.readouterr().out
    )
    # The P1 filter, the most-urgent-first order and the counts follow.
    assert main(["mentions", "--db", db_url, "--priority", "P1", "--format", "json"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [fraud[5]]
    urgent, _ = store.inbox_page(engine, InboxFilter(sort="urgency"), after=None, limit=3)
    assert [r["id"] for r in urgent][:2] == [fraud[5], slow]
    _check_counts(engine)
    assert inbox_counts.fold(engine) is True
    _check_counts(engine)


def test_a_complaint_is_never_lowered_and_a_severe_one_reaches_p2(db_url, stored) -> None:
    engine, fraud, slow, thanks = stored
    # The team's mild on triage's severe P1: the severity changes, the priority does not (triage's
    # reach, history and escalation terms still hold; the agent is on it).
    assert workflow.correct_label(engine, fraud[0], "complaint", actor="ann", severity="mild").result == (
        "changed"
    )
    assert _rank(engine, fraud[0]) == ("complaint", "P1", 99, "mild")
    assert "priority_after" not in _last_event(engine, fraud[0])
    # The team's severe on a mild P3: at least a severe complaint's urgency (base + severe points).
    u = TriageSettings().urgency
    assert (
        workflow.correct_label(engine, slow, "complaint", actor="ann", severity="severe").result == "changed"
    )
    assert _rank(engine, slow) == ("complaint", "P2", u.base_complaint + u.severe_points, "severe")
    assert _last_event(engine, slow) == {
        "before": "mild",
        "after": "severe",
        "label": "complaint",
        "priority_before": "P3",
        "priority_after": "P2",
        "urgency_before": 39,
        "urgency_after": 55,
    }
    # Praise the team calls a complaint: a complaint's base (P3 with the defaults), never P1.
    workflow.correct_label(engine, thanks, "complaint", actor="ann")
    assert _rank(engine, thanks) == ("complaint", "P3", u.base_complaint, None)
    # A question keeps triage's urgency: it still wants an answer.
    workflow.correct_label(engine, fraud[1], "question", actor="ann")
    assert _rank(engine, fraud[1])[:3] == ("question", "P1", 99)
    _check_counts(engine)


def test_the_config_bases_decide_where_a_relabel_lands(tmp_path, db_url, stored, capsys) -> None:
    engine, fraud, _, _ = stored
    config = tmp_path / "config.yaml"
    config.write_text(
        "brand:\n  names: [Acme]\n  handles:\n    x: [acme]\n"
        f"storage:\n  url: '{db_url}'\n"
        "triage:\n  p2_urgency: 40\n  urgency:\n    base_neutral: 45\n    base_spam: 3\n",
        encoding="utf-8",
    )
    # `label` with -c reads the triage section (it otherwise reads only storage.url).
    assert main(["label", str(fraud[0]), "neutral", "-c", str(config)]) == 0
    assert _rank(engine, fraud[0]) == ("neutral", "P2", 45, None)
    labels = tmp_path / "labels.csv"
    labels.write_text(f"id,label\n{fraud[1]},spam\n", encoding="utf-8")
    assert main(["label", "--file", str(labels), "-c", str(config), "--quiet"]) == 0
    assert _rank(engine, fraud[1]) == ("spam", "P3", 3, None)
    assert main(["label", "spam", "-c", str(config), "--where", "search=chargeback"]) == 0
    assert _rank(engine, fraud[2]) == ("spam", "P3", 3, None)
    # The mention page passes the dashboard's config too.
    from monitor.web.auth import User
    from monitor.web.context import WebContext
    from monitor.web.mention_page import perform

    web = WebContext(
        config=parse_config({"brand": BRAND, "triage": {"urgency": {"base_praise": 7}}}), engine=engine
    )
    perform(
        web, User("bob", "Bob", "agent", "sid"), fraud[3], "label", version=None, fields={"label": "praise"}
    )
    assert _rank(engine, fraud[3]) == ("praise", "P3", 7, None)
    _check_counts(engine)
