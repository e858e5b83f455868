"""A complaint's severity on the dashboard (issue 14): the inbox badge and filter, the mention's
reasons, the correction form and the export, in real Chromium on a laptop and a phone."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import models as m

SIZES = {"laptop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
FRAUD = "@acme you charged me twice for the SmartKettle, this is fraud. My lawyer will call."


def _store_severe(dashboard, key: str, author: str = "quinn") -> int:
    """A severe complaint stored through the real pipeline (real triage), an hour old."""
    mention = Mention(
        platform="import",
        external_id=key,
        text=FRAUD,
        created_at=datetime.now(UTC) - timedelta(hours=1),
        author_handle=author,
        addressed_to_brand=True,
    )
    Pipeline(dashboard.engine, dashboard.config, alerts_enabled=False).ingest([mention], source="import")
    t = m.Mention.__table__
    with dashboard.engine.connect() as conn:
        row = conn.execute(select(t.c.id, t.c.severity).where(t.c.external_id == key)).one()
    assert row.severity == "severe"  # triage's own verdict, not set by the test
    return int(row.id)


@pytest.fixture(scope="module")
def severe_id(dashboard) -> int:
    return _store_severe(dashboard, "severity-fraud")


def _count(engine, severity: str) -> int:
    t = m.Mention.__table__
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(t.c.severity == severity)).scalar_one())


@pytest.mark.parametrize("size", list(SIZES))
def test_a_severe_complaint_shows_its_badge_and_reasons_and_the_filter_finds_it(
    size, login, dashboard, severe_id, shot
):
    viewport = SIZES[size]
    page = login("alice", viewport=viewport, is_mobile=size == "phone", has_touch=size == "phone")
    page.goto("/")
    rows = page.locator("#inbox-list .mrow")
    expect(rows.first).to_be_visible()
    # Unfiltered, the list mixes severities: badges only on complaints.
    assert page.locator("#inbox-list .mrow .sev").count() < rows.count()

    if size == "phone":
        page.locator("#filter-box summary").click()
    page.select_option("select[name=severity]", "severe")
    page.click("#filter-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"severity=severe"))
    expect(rows.first).to_be_visible()
    assert rows.count() == min(_count(dashboard.engine, "severe"), 50)
    expect(page.locator("#inbox-list .mrow .sev-severe")).to_have_count(rows.count())
    assert page.locator("#inbox-list .mrow .sev-moderate, #inbox-list .mrow .sev-mild").count() == 0
    ours = page.locator(f"#inbox-list .mrow[data-id='{severe_id}']")
    expect(ours.locator(".pill.sev")).to_have_text("severe")
    expect(page.locator("select[name=severity]")).to_have_value("severe")  # the form says what is on
    ours.scroll_into_view_if_needed()
    shot(page, f"{size}-inbox-severe", full_page=False)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the filtered inbox is {overflow}px wider than the {size} screen"

    # Other facets keep the severity filter.
    page.locator(".facet a", has_text="complaint").first.click()
    expect(page).to_have_url(re.compile(r"severity=severe"))

    page.goto(f"/mentions/{severe_id}")
    expect(page.locator(".toolbar .pill.sev")).to_have_text("severe")
    reasons = page.locator(".severity-reasons .reason")
    expect(reasons.first).to_have_text("accuses the brand of fraud (“fraud”)")
    expect(page.locator(".severity-reasons")).to_contain_text("threatens legal action: “lawyer”")
    expect(page.locator(".team-rating")).to_have_count(0)  # triage's own severity
    shot(page, f"{size}-mention-severe", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the mention page is {overflow}px wider than the {size} screen"


def test_a_bad_severity_filter_is_named_with_the_allowed_values(login):
    page = login("alice")
    page.goto("/?severity=awful")
    expect(page.locator(".flash-error")).to_contain_text("'awful' is not one of severe, moderate, mild")
    expect(page.locator("select[name=severity]")).to_have_class(re.compile("invalid"))
    expect(page.locator("#inbox-list .mrow").first).to_be_visible()  # the list still shows


def test_correct_the_label_with_the_teams_severity(login, dashboard, shot):
    rated = _store_severe(dashboard, "severity-rated", author="rhea")
    page = login("bob")
    page.goto(f"/mentions/{rated}")
    page.select_option("form[action$='/label'] select[name=label]", "complaint")
    page.select_option("form[action$='/label'] select[name=severity]", "moderate")
    page.click("form[action$='/label'] button")
    expect(page.locator(".flash-success")).to_contain_text("severity moderate (was severe)")
    c = m.LabelCorrection.__table__
    with dashboard.engine.connect() as conn:
        rows = conn.execute(
            select(c.c.corrected, c.c.severity, c.c.predicted_severity, c.c.actor).where(
                c.c.mention_id == rated
            )
        ).all()
    # The correction keeps triage's severity; the mention shows the team's, and its audit trail says so.
    assert [tuple(r) for r in rows] == [("complaint", "moderate", "severe", "bob")]
    expect(page.locator(".toolbar .pill.sev")).to_have_text("moderate")
    expect(page.locator(".timeline")).to_contain_text("severity: severe → moderate")
    expect(page.locator(".team-rating")).to_have_text("rated by bob; triage said severe")
    shot(page, "mention-team-severity", full_page=False)
    # A severity goes with complaint only: refused, nothing written.
    page.select_option("form[action$='/label'] select[name=label]", "praise")
    page.select_option("form[action$='/label'] select[name=severity]", "mild")
    page.click("form[action$='/label'] button")
    expect(page.locator(".flash-error")).to_contain_text("a severity goes with the label complaint")
    expect(page.locator(".toolbar .pill.sev")).to_have_text("moderate")


def test_relabelled_spam_loses_its_severity_badge_in_the_inbox(login, dashboard):
    spam = _store_severe(dashboard, "severity-spam", author="sol")
    page = login("bob")
    page.goto("/?severity=severe&priority=P1&q=lawyer")
    row = page.locator(f"#inbox-list .mrow[data-id='{spam}']")
    expect(row.locator(".pill.sev")).to_have_text("severe")
    page.goto(f"/mentions/{spam}")
    page.select_option("form[action$='/label'] select[name=label]", "spam")
    page.click("form[action$='/label'] button")
    expect(page.locator(".flash-success")).to_contain_text("label spam, no severity (was severe)")
    expect(page.locator(".toolbar .pill.sev")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("relabel: complaint → spam (severity severe → —)")
    # Spam is not urgent: spam's base urgency and P3; the audit trail keeps triage's P1.
    expect(page.locator(".timeline")).to_contain_text(re.compile(r"\(priority P1 → P3, urgency \d+ → 0\)"))
    page.goto("/?priority=P1&q=lawyer")
    expect(page.locator(f"#inbox-list .mrow[data-id='{spam}']")).to_have_count(0)
    page.goto("/?q=lawyer")
    row = page.locator(f"#inbox-list .mrow[data-id='{spam}']")
    expect(row).to_be_visible()
    expect(row.locator(".pill.sev")).to_have_count(0)
    # Nor does the severity filter find it any more, and its count moved.
    page.goto("/?severity=severe&q=lawyer")
    expect(page.locator("#inbox-list .mrow").first).to_be_visible()
    expect(page.locator(f"#inbox-list .mrow[data-id='{spam}']")).to_have_count(0)


def test_exports_carry_severity_and_follow_its_filter(login, dashboard, severe_id):
    page = login("alice")
    response = page.request.get("/inbox/export.csv?severity=severe")
    rows = list(csv.DictReader(response.text().splitlines()))
    assert rows and {r["severity"] for r in rows} == {"severe"}
    assert str(severe_id) in {r["id"] for r in rows}
    every = page.request.get("/inbox/export.json?label=complaint").json()
    assert "severity" in every[0] and {r["severity"] for r in every} <= {"severe", "moderate", "mild", None}
