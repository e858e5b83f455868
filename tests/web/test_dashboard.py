"""The dashboard in real headless Chromium against the real server: log in, triage, act, export, stay safe."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from monitor.pipeline import Pipeline
from monitor.responder.sender import Sender
from monitor.store import models as m
from monitor.web.auth import SESSION_COOKIE
from tests.web.conftest import make_incident


def row(engine, mention_id: int):
    t = m.Mention.__table__
    with engine.connect() as conn:
        return conn.execute(select(t).where(t.c.id == mention_id)).one()


def replies(engine, mention_id: int):
    t = m.ReplyOutbox.__table__
    with engine.connect() as conn:
        return conn.execute(select(t).where(t.c.mention_id == mention_id)).all()


def test_login_is_required_and_returns_to_the_page(browser, dashboard):
    context = browser.new_context(base_url=dashboard.url)
    page = context.new_page()
    target = f"/mentions/{dashboard.ids['question']}"
    page.goto(target)
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fmentions%2F"))
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("Wrong login or password")
    page.fill("input[name=password]", dashboard.users["alice"])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{dashboard.url}{target}")
    expect(page.locator("blockquote.post")).to_contain_text("110V")
    cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    context.close()


def test_an_expired_session_goes_to_login_and_back(browser, dashboard):
    from monitor.web.auth import make_session
    from monitor.web.context import WebContext

    ctx = WebContext(config=dashboard.config, engine=dashboard.engine)
    stale = make_session(ctx, "alice", datetime.now(UTC) - timedelta(hours=13))
    context = browser.new_context(base_url=dashboard.url)
    context.add_cookies([{"name": SESSION_COOKIE, "value": stale, "url": dashboard.url}])
    page = context.new_page()
    page.goto("/incidents")
    expect(page.locator(".flash-warning")).to_contain_text("session expired")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", dashboard.users["alice"])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{dashboard.url}/incidents")
    context.close()


def test_logins_are_rate_limited(browser, dashboard):
    context = browser.new_context(base_url=dashboard.url)
    page = context.new_page()
    page.goto("/login")
    for _ in range(5):
        page.fill("input[name=login]", "nobody-here")
        page.fill("input[name=password]", "guess")
        page.click("button[type=submit]")
        expect(page.locator(".flash-error")).to_contain_text("Wrong login or password")
    page.fill("input[name=login]", "nobody-here")
    page.fill("input[name=password]", "guess")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("Too many failed logins")
    context.close()


def test_filter_the_inbox_and_see_why_each_mention_matters(login, dashboard):
    page = login("alice")
    page.goto("/")
    rows = page.locator("#inbox-list .mrow")
    expect(rows.first).to_be_visible()
    assert rows.count() == 50  # a full first page; more behind "Older"
    page.click("a:has-text('Older →')")
    expect(rows.first).to_be_visible()
    page.goto("/")
    complaint_facet = page.locator(".facet a", has_text="complaint")
    expected = int(complaint_facet.locator(".n").inner_text().rstrip("+"))
    complaint_facet.click()
    expect(page).to_have_url(re.compile(r"label=complaint"))
    labels = page.locator("#inbox-list .mrow .pill.label-complaint")
    expect(labels.first).to_be_visible()
    assert labels.count() == min(expected, 50) == rows.count()
    assert page.locator("#inbox-list .reason").count() > 0  # triage reasons at a glance
    page.fill("input[name=q]", '"order and nobody answers"')  # a phrase: these words in this order
    page.click("#filter-form button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("@dana")
    # Sorted by urgency: the first row is at least as urgent as the second.
    page.goto("/?sort=urgency")
    first, second = (int(rows.nth(i).locator(".urg").inner_text()) for i in (0, 1))
    assert first >= second


def test_a_filter_that_does_not_parse_is_named_in_the_form(login):
    page = login("alice")
    page.goto("/?since=last+tuesday&priority=P9")
    expect(page.locator("#since-error")).to_contain_text("'last tuesday' is not a date")
    expect(page.locator("input[name=since]")).to_have_class(re.compile("invalid"))
    expect(page.locator(".flash-error")).to_contain_text("priority")
    expect(page.locator("#inbox-list .mrow").first).to_be_visible()  # the list still shows


def test_claim_reply_resolve_and_relabel_a_mention(login, dashboard):
    mention_id = dashboard.ids["refund"]
    page = login("alice")
    page.goto("/")
    page.fill("input[name=q]", '"order and nobody answers"')  # a phrase: these words in this order
    page.click("#filter-form button[type=submit]")
    page.click("#inbox-list .mrow a.open")
    expect(page).to_have_url(f"{dashboard.url}/mentions/{mention_id}")
    expect(page.locator(".meta")).to_contain_text("12.4k followers")
    page.click("#form-claim button")
    expect(page.locator(".flash-success")).to_contain_text("Claimed")
    expect(page.locator(".claimed")).to_contain_text("alice")
    page.select_option("#reply-template", "sorry")
    expect(page.locator("#reply-text")).to_have_value(
        re.compile(r"^Hi Dana K\., sorry about this! Alice from Acme")
    )
    page.click("#reply button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Reply queued")
    Sender(dashboard.engine, dashboard.config).send_due()
    posted = [r for r in dashboard.mastodon.replies if "sorry about this" in r["content"]]
    assert len(posted) == 1 and posted[0]["in_reply_to_id"] is not None
    page.reload()
    expect(page.locator("section:has(h2:text('Replies'))")).to_contain_text("sent")
    page.select_option("select[name=label]", "question")
    page.click("form[action$='/label'] button")
    expect(page.locator(".flash-success")).to_contain_text("Label corrected")
    page.click("#form-resolve button")
    expect(page.locator(".toolbar .status-pill")).to_have_text("resolved")
    stored = row(dashboard.engine, mention_id)
    assert (stored.status, stored.label, stored.claimed_by) == ("resolved", "question", "alice")
    with dashboard.engine.connect() as conn:
        corrections = conn.execute(
            select(m.LabelCorrection.__table__).where(m.LabelCorrection.__table__.c.mention_id == mention_id)
        ).all()
    assert [(c.corrected, c.actor) for c in corrections] == [("question", "alice")]
    page.fill("textarea[name=text][maxlength='4000']", "Customer also emailed; refund issued in Stripe.")
    page.click("form[action$='/note'] button")
    expect(page.locator(".note")).to_contain_text("refund issued in Stripe")


def test_two_agents_reply_to_the_same_mention_and_the_second_is_refused_by_name(login, dashboard):
    mention_id = dashboard.ids["race"]
    alice, bob = login("alice"), login("bob")
    for page in (alice, bob):
        page.goto(f"/mentions/{mention_id}")
    alice.fill("#reply-text", "Sorry Ivan, I've chased the warehouse: it ships today.")
    alice.click("#reply button[type=submit]")
    expect(alice.locator(".flash-success")).to_contain_text("Reply queued")
    bob.fill("#reply-text", "Hi Ivan, looking into it now.")
    bob.click("#reply button[type=submit]")
    refusal = bob.locator(".flash-error")
    expect(refusal).to_contain_text("alice")
    expect(refusal).to_contain_text("Not done")
    expect(bob.locator("#reply-text")).to_have_value("Hi Ivan, looking into it now.")  # the draft is kept
    assert [r.author for r in replies(dashboard.engine, mention_id)] == ["alice"]


def test_a_stale_action_says_who_changed_it(login, dashboard):
    mention_id = dashboard.ids["broken"]
    page = login("bob")
    page.goto(f"/mentions/{mention_id}")
    from monitor import workflow

    workflow.resolve(dashboard.engine, [mention_id], actor="carol")  # someone else, meanwhile
    page.click("form[action$='/ignore'] button")
    expect(page.locator(".flash-error")).to_contain_text("resolved by carol")
    assert row(dashboard.engine, mention_id).status == "resolved"


def test_a_viewer_reads_and_exports_but_cannot_act(login, dashboard):
    mention_id = dashboard.ids["question"]
    page = login("val")
    page.goto(f"/mentions/{mention_id}")
    expect(page.locator("blockquote.post")).to_contain_text("110V")
    expect(page.locator("#form-claim")).to_have_count(0)
    expect(page.locator("#reply")).to_have_count(0)
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    answer = page.request.post(f"/mentions/{mention_id}/resolve", form={"csrf": token})
    assert answer.status == 403 and "agent role" in answer.text()
    assert row(dashboard.engine, mention_id).status == "new"
    page.goto("/")
    with page.expect_download() as download:
        page.click("a:has-text('Export CSV')")
    assert download.value.suggested_filename.endswith(".csv")


def test_an_action_without_a_csrf_token_is_refused(login, dashboard):
    mention_id = dashboard.ids["praise"]
    page = login("mia")
    page.goto(f"/mentions/{mention_id}")
    answer = page.request.post(f"/mentions/{mention_id}/ignore", form={"version": "0"})
    assert answer.status == 403 and "CSRF" in answer.text()
    forged = page.request.post(f"/mentions/{mention_id}/ignore", form={"csrf": "0" * 32})
    assert forged.status == 403
    assert row(dashboard.engine, mention_id).status == "new"


def test_hostile_text_renders_inert(login, dashboard):
    page = login("mia")
    for mention_id in (dashboard.ids["xss"], dashboard.ids["hostile_link"]):
        page.goto(f"/mentions/{mention_id}")
        assert page.evaluate("window.__xss") is None
        assert page.locator("a[href^='javascript']").count() == 0
        assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    page.goto(f"/mentions/{dashboard.ids['xss']}")
    post = page.locator("blockquote.post")
    expect(post).to_contain_text("<script>window.__xss = 1</script>")
    expect(post).to_contain_text("@everyone")
    expect(post).to_contain_text("⟨U+202E⟩evil")
    links = post.locator("a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == ["https://example.com/ok"]
    page.goto(f"/mentions/{dashboard.ids['hostile_link']}")
    expect(page.locator("a:has-text('Open original')")).to_have_count(0)
    expect(page.locator(".meta")).to_contain_text("<img src=x onerror=window.__xss=5>")
    page.goto("/?q=window.__xss")
    expect(page.locator("#inbox-list .mrow").first).to_be_visible()
    assert page.evaluate("window.__xss") is None


def test_export_the_filtered_list_as_csv(login, dashboard):
    page = login("alice")
    page.goto("/?label=complaint")
    with page.expect_download() as download:
        page.click("a:has-text('Export CSV')")
    with open(download.value.path(), encoding="utf-8") as f:
        text = f.read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {r["label"] for r in rows} == {"complaint"}
    assert {"id", "created_at", "author_handle", "text", "priority", "status"} <= set(rows[0])
    json_rows = page.request.get("/inbox/export.json?label=complaint").json()
    assert len(json_rows) == len(rows)


def test_unknown_and_broken_addresses_get_pages_not_errors(login):
    page = login("alice")
    for path, status, words in (
        ("/mentions/999999", 404, "no mention #999999"),
        ("/mentions/abc", 404, "no page at this address"),
        ("/incidents/424242", 404, "no incident #424242"),
        ("/?after=not-a-cursor", 200, "page link is damaged"),
        ("/inbox/export.xml", 404, ".csv or .json"),
    ):
        answer = page.goto(path)
        assert answer.status == status, path
        expect(page.locator("main")).to_contain_text(words, ignore_case=True)


def test_new_mentions_appear_without_a_reload(login, dashboard):
    from monitor.mention import Mention

    page = login("mia")
    page.goto("/")
    expect(page.locator("#inbox-list .mrow").first).to_be_visible()
    fresh = Mention(
        platform="import",
        external_id=f"live-{datetime.now(UTC).timestamp()}",
        text="Acme, my order arrived smashed. Live update please!",
        created_at=datetime.now(UTC),
        author_handle="live_tester",
    )
    Pipeline(dashboard.engine, dashboard.config, alerts_enabled=False).ingest([fresh], source="import")
    expect(page.locator("#inbox-list .mrow").first).to_contain_text("arrived smashed", timeout=15_000)
    expect(page.locator("#newbar")).to_contain_text("1 new mention")


def test_keyboard_moves_and_acknowledges(login, dashboard):
    page = login("alice")
    page.goto("/?status=new&platform=simulated")
    page.keyboard.press("j")
    selected = page.locator("#inbox-list .mrow.selected")
    expect(selected).to_have_count(1)
    mention_id = int(selected.get_attribute("data-id"))
    page.keyboard.press("a")
    expect(selected.locator(".status-pill")).to_have_text("acknowledged")
    assert row(dashboard.engine, mention_id).status == "acknowledged"
    page.keyboard.press("j")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(r"/mentions/\d+$"))


def test_an_incident_timeline_and_bulk_acknowledge(login, dashboard):
    incident_id = make_incident(dashboard, 3)
    t = m.Mention.__table__
    with dashboard.engine.connect() as conn:
        members = conn.execute(select(t.c.id).where(t.c.incident_id == incident_id)).scalars().all()
    page = login("mia")
    page.goto("/incidents")
    page.click(f"a[href='/incidents/{incident_id}'] >> nth=0")
    timeline = page.locator(".timeline li")
    expect(timeline).to_have_count(4)
    expect(timeline.nth(1)).to_contain_text("not yet")
    expect(page.locator("#inbox-list .mrow")).to_have_count(3)
    page.click("form[action$='/acknowledge'] button")
    expect(page.locator(".flash-success")).to_contain_text("3 member mention(s) acknowledged")
    expect(timeline.nth(1)).not_to_contain_text("not yet")
    assert {row(dashboard.engine, i).status for i in members} == {"acknowledged"}
