"""Reports in real headless Chromium: every chart draws, gaps show next to the figures, exports download
the rows the store holds, a bad period names its field, and the pages fit a laptop and a phone.

Uses the dashboard's session fixtures (tests/web/conftest.py). On top of its seeded mentions
this module records what the responder would (three first responses by alice and bob), has
one answered author post again through the real pipeline (recovery), and a coverage gap of
the simulated source.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, update

from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import models as m

CHARTS = ("volume", "sentiment", "response", "agents", "open", "topics", "recovery")
SIZES = {"laptop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def answered(dashboard) -> list[int]:
    """Three simulated complaints/questions answered by people; one author comes back happier."""
    t = m.Mention.__table__
    with dashboard.engine.begin() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.created_at, t.c.author_handle, t.c.platform, t.c.polarity)
            .where(t.c.platform == "simulated", t.c.label.in_(("complaint", "question")))
            .order_by((t.c.label == "complaint").desc(), t.c.id.desc())
            .limit(3)
        ).all()
        assert len(rows) == 3, "the simulated source should have produced complaints or questions"
        for row, (who, minutes) in zip(rows, (("alice", 5), ("bob", 50), ("alice", 600)), strict=True):
            conn.execute(
                update(t)
                .where(t.c.id == row.id)
                .values(
                    first_response_at=row.created_at + timedelta(minutes=minutes),
                    first_responder=who,
                    status="replied",
                )
            )
        conn.execute(
            m.CoverageGap.__table__.insert().values(
                source="simulated",
                start=datetime.now(UTC) - timedelta(days=1, hours=3),
                end=datetime.now(UTC) - timedelta(days=1),
                reason="HTTP 503 from the platform",
                estimated_missed=31,
            )
        )
    first = rows[0]
    later = datetime.now(UTC) + timedelta(minutes=1)
    happier = Mention(
        platform=first.platform,
        external_id="reports-recovery-1",
        text="Thanks Acme, all sorted now. Great support!",
        created_at=max(later, first.created_at + timedelta(hours=11)),
        author_handle=first.author_handle,
    )
    Pipeline(dashboard.engine, dashboard.config, alerts_enabled=False).ingest([happier], source="simulated")
    return [r.id for r in rows]


def _painted(page, name: str) -> bool:
    """True when the chart's canvas has any non-transparent pixel."""
    return page.evaluate(
        """(name) => {
            const c = document.querySelector(`canvas[data-chart="${name}"]`);
            if (!c || !c.width || !c.height) return false;
            const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
            return false;
        }""",
        name,
    )


def test_every_chart_renders_with_the_gap_next_to_it(login, answered):
    page = login("val")  # a viewer may read reports
    page.goto("/reports")
    for name in CHARTS:
        canvas = page.locator(f'canvas[data-chart="{name}"]')
        expect(canvas).to_have_attribute("data-rendered", "1")
        assert _painted(page, name), f"the {name} chart drew nothing"
    notes = page.locator("#r-volume .gapnotes")
    expect(notes).to_contain_text("simulated blind")
    expect(notes).to_contain_text("~31 posts missed")
    expect(page.locator("#r-response .gapnotes")).to_contain_text("simulated blind")
    table = page.locator("table[data-table=sla]")
    expect(table).to_contain_text("alice")
    expect(table).to_contain_text("bob")


def test_a_single_report_page(login, answered):
    page = login("mia")
    page.goto("/reports/response?range=30d&hours=all")
    expect(page.locator("h1")).to_have_text("First response and SLA")
    expect(page.locator('canvas[data-chart="response"]')).to_have_attribute("data-rendered", "1")
    expect(page.locator("#r-volume")).to_have_count(0)
    expect(page.locator("#r-response")).to_contain_text("around the clock")


def _download(page, selector: str) -> tuple[str, str]:
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    return download.suggested_filename, download.path().read_text(encoding="utf-8")


def test_csv_and_json_exports_hold_the_stored_rows(login, dashboard, answered):
    page = login("val")
    page.goto("/reports?hours=all")  # around the clock: the figures do not depend on today's hours
    name, text = _download(page, "a[data-export=response-csv]")
    assert name.startswith("mention-monitor-response-") and name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    everyone = next(r for r in rows if r["kind"] == "all")
    # The session's database is shared with the other dashboard tests (one of them replies as
    # alice), so the expected figures are this fixture's three answers plus whatever else is stored.
    t = m.Mention.__table__
    with dashboard.engine.connect() as conn:
        timed = conn.execute(
            select(
                t.c.created_at, t.c.first_response_at, func.coalesce(t.c.first_responder, t.c.assignee)
            ).where(t.c.first_response_at.is_not(None))
        ).all()
    responders = Counter(who for _, _, who in timed if who)
    assert responders["alice"] >= 2 and responders["bob"] >= 1
    waits = [responded - created for created, responded, _ in timed]
    assert int(everyone["responded"]) == len(timed)
    agents = {r["name"]: int(r["responded"]) for r in rows if r["kind"] == "agent"}
    assert agents == dict(responders)
    assert int(everyone["within_15min"]) == sum(w <= timedelta(minutes=15) for w in waits)
    assert int(everyone["within_1h"]) == sum(w <= timedelta(hours=1) for w in waits)

    name, text = _download(page, "a[data-export=volume-json]")
    body = json.loads(text)
    assert body["report"] == "volume" and name.endswith(".json")
    start, end = datetime.fromisoformat(body["start"]), datetime.fromisoformat(body["end"])
    # The fixture's "happier" follow-up is dated 11 h after the first answered mention, so after
    # 13:00 UTC it lies past the period's end (tomorrow): only the period's mentions are expected.
    with dashboard.engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).where(t.c.created_at >= start, t.c.created_at <= end)
        ).scalar_one()
    # Whole local days: the export counts at least every mention of the period, and none from the future.
    with dashboard.engine.connect() as conn:
        everything = conn.execute(select(func.count()).select_from(t)).scalar_one()
    assert stored <= sum(r["mentions"] for r in body["rows"]) <= everything
    assert any(g["source"] == "simulated" and g["estimated_missed"] == 31 for g in body["coverage_gaps"])

    name, text = _download(page, "a[data-export=gaps-csv]")
    gaps = list(csv.DictReader(io.StringIO(text)))
    assert [g["reason"] for g in gaps if g["source"] == "simulated"] == ["HTTP 503 from the platform"]


def test_a_period_that_does_not_parse_names_the_field(login):
    page = login("mia")
    response = page.goto("/reports?range=5y")
    assert response is not None and response.status == 400
    expect(page.locator(".flash-error")).to_contain_text("range")
    expect(page.locator("select[name=range]")).to_have_class("invalid")
    response = page.goto("/reports?from=yesterday")
    assert response is not None and response.status == 400
    expect(page.locator("input[name=from]")).to_have_class("invalid")
    assert page.goto("/reports/nonsense").status == 404


@pytest.mark.parametrize("size", list(SIZES))
def test_report_screenshots(size, login, answered, shot):
    viewport = SIZES[size]
    page = login("mia", viewport=viewport, is_mobile=size == "phone", has_touch=size == "phone")
    page.goto("/reports")
    for name in CHARTS:
        expect(page.locator(f'canvas[data-chart="{name}"]')).to_have_attribute("data-rendered", "1")
    shot(page, f"{size}-reports")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"/reports is {overflow}px wider than the {size} screen"
