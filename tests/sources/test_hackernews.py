"""The Hacker News source against a fake Algolia API on 127.0.0.1: real HTTP, real paging."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.brand import BrandSettings
from monitor.mention import Mention
from monitor.sources import source_class
from monitor.sources.base import BudgetExhausted, MalformedResponse, Page, RateLimited, SourceUnavailable
from monitor.sources.hackernews import HackerNewsSettings, HackerNewsSource
from tests.fakes.hackernews import FakeHackerNews, algolia_error
from tests.fakes.server import Response

BRAND = BrandSettings(
    names=["Acme"],
    handles={"hackernews": ["acme_hq"]},
    exclusions=["giveaway"],
    muted_authors={"hackernews": ["spammy"]},
)
Polled = tuple[list[Mention], dict[str, Any], list[Page]]


@pytest.fixture
def fake() -> Iterator[FakeHackerNews]:
    with FakeHackerNews() as server:
        yield server


def make_source(fake: FakeHackerNews, brand: BrandSettings = BRAND, **overrides: Any) -> HackerNewsSource:
    values: dict[str, Any] = {"api_base": fake.api_base, "timeout": 2}
    values.update(overrides)
    return HackerNewsSource("hn-test", HackerNewsSettings(**values), brand)


def drain(source: HackerNewsSource, cursor: dict[str, Any], max_pages: int = 200) -> Polled:
    """What the scheduler does in one poll: fetch while ``more``, keeping the last cursor."""
    pages: list[Page] = []
    while True:
        page = source.fetch(cursor)
        pages.append(page)
        cursor = page.cursor
        if not page.more or len(pages) >= max_pages:
            return [m for p in pages for m in p.mentions], cursor, pages


def ago(seconds: float) -> int:
    return int(time.time() - seconds)


def ids(mentions: list[Mention]) -> list[str]:
    return [m.external_id for m in mentions]


def searches(fake: FakeHackerNews) -> list[Any]:
    return [r for r in fake.requests if r.path == "/api/v1/search_by_date"]


def test_first_poll_reads_stories_and_comments(fake: FakeHackerNews) -> None:
    story = fake.add_story("Show HN: I rebuilt Acme's dashboard", created_at_i=ago(900))
    comment = fake.add_comment(
        "We moved off Acme after the outage.\n\nIt's been fine since.", story=story, created_at_i=ago(300)
    )
    fake.add_story("Acme in 2019", created_at_i=ago(30 * 86400))  # older than the first poll's lookback
    source = make_source(fake)
    mentions, cursor, pages = drain(source, {})

    by_id = {m.external_id: m for m in mentions}
    assert sorted(by_id) == sorted([story["objectID"], comment["objectID"]])
    s, c = by_id[story["objectID"]], by_id[comment["objectID"]]
    assert s.url == f"https://news.ycombinator.com/item?id={story['objectID']}"
    assert s.text.startswith("Show HN: I rebuilt Acme's dashboard") and s.conversation_id == story["objectID"]
    assert s.created_at == datetime.fromtimestamp(story["created_at_i"], UTC)
    # comment_text is HTML with entity escapes; the mention carries plain text.
    assert c.text == "We moved off Acme after the outage.\n\nIt's been fine since."
    assert c.in_reply_to_id == story["objectID"] and c.conversation_id == story["objectID"]
    assert isinstance(c.in_reply_to_id, str) and c.author_handle == "someone"
    assert "_highlightResult" not in c.raw and c.raw["story_id"] == int(story["objectID"])

    (request,) = searches(fake)
    assert request.arg("query") == "Acme" and request.arg("tags") == "(story,comment)"
    since = int(request.arg("numericFilters").removeprefix("created_at_i>"))
    assert abs(since - ago(3600)) <= 2
    assert cursor["terms"]["Acme"]["hw"] == comment["created_at_i"] and len(pages) == 1


def test_incremental_poll_overlaps_and_dedupes(fake: FakeHackerNews) -> None:
    first = fake.add_story("Acme raises prices", created_at_i=ago(60))
    source = make_source(fake, overlap_seconds=120)
    mentions, cursor, _ = drain(source, {})
    assert ids(mentions) == [first["objectID"]]

    # Indexed late (or written by a clock behind ours): older than the mark, inside the overlap.
    late = fake.add_story("Acme on the front page", created_at_i=first["created_at_i"] - 30)
    new = fake.add_comment("Acme support is great", created_at_i=ago(1))
    mentions, cursor, pages = drain(source, cursor)
    assert sorted(ids(mentions)) == sorted([late["objectID"], new["objectID"]])
    assert pages[0].skipped["already_seen"] == 1  # the first story, read again in the overlap
    assert searches(fake)[-1].arg("numericFilters") == f"created_at_i>{first['created_at_i'] - 120}"
    assert drain(source, cursor)[0] == []


def test_each_term_is_its_own_query_and_near_misses_are_dropped(fake: FakeHackerNews) -> None:
    brand = BrandSettings(names=["Acme"], keywords=["RoadRunner"])
    real = fake.add_story("Acme status page is down", created_at_i=ago(50))
    typo = fake.add_comment("New acne treatment looks promising", created_at_i=ago(40))
    inside = fake.add_story("Acmeville council votes on budget", created_at_i=ago(30))
    other = fake.add_comment("The RoadRunner API is neat", created_at_i=ago(20))
    source = make_source(fake, brand=brand)

    page = source.fetch({})
    assert page.more and page.cursor["todo"] == ["RoadRunner"]
    # Algolia's typo tolerance and prefix matching really return these; the source drops them.
    returned = {h["objectID"] for h in [real, typo, inside]}
    assert page.items_read == 3 and returned == {real["objectID"], typo["objectID"], inside["objectID"]}
    assert ids(page.mentions) == [real["objectID"]] and page.skipped == {"no_brand_term": 2}
    last = source.fetch(page.cursor)
    assert not last.more and ids(last.mentions) == [other["objectID"]]
    assert [r.arg("query") for r in searches(fake)] == ["Acme", "RoadRunner"]


def test_noise_is_skipped_and_counted_per_reason(fake: FakeHackerNews) -> None:
    keep = fake.add_story("Acme launches v2", created_at_i=ago(50))
    fake.add_comment("Acme team here, happy to answer", author="acme_hq", story=keep, created_at_i=ago(40))
    fake.add_comment("Acme is a scam", author="spammy", story=keep, created_at_i=ago(30))
    fake.add_comment("Acme giveaway for HN readers", story=keep, created_at_i=ago(20))
    source = make_source(fake)
    mentions, _, pages = drain(source, {})
    assert ids(mentions) == [keep["objectID"]]
    assert pages[0].skipped == {"own_post": 1, "muted_author": 1, "excluded_term": 1}


def test_zero_results(fake: FakeHackerNews) -> None:
    fake.add_story("Nothing about the brand", created_at_i=ago(10))
    source = make_source(fake)
    mentions, cursor, pages = drain(source, {})
    assert mentions == [] and len(pages) == 1 and pages[0].items_read == 0 and not pages[0].gaps
    assert cursor["terms"]["Acme"]["run"] is None and cursor["terms"]["Acme"]["hw"] is not None
    assert drain(source, cursor)[0] == []


def test_pagination_across_pages_with_a_frozen_window(fake: FakeHackerNews) -> None:
    hits = [fake.add_story(f"Acme story {i}", created_at_i=ago(1000 - 10 * i)) for i in range(35)]
    source = make_source(fake, hits_per_page=10)
    mentions, _, pages = drain(source, {})
    assert sorted(ids(mentions)) == sorted(h["objectID"] for h in hits) and len(mentions) == 35
    requests = searches(fake)
    assert [r.arg("page") for r in requests] == ["0", "1", "2", "3"]
    newest = max(h["created_at_i"] for h in hits)
    assert all(r.arg("numericFilters").endswith(f",created_at_i<={newest}") for r in requests[1:])
    assert [p.more for p in pages] == [True, True, True, False]


def test_more_hits_than_algolia_pages_moves_the_window_down(fake: FakeHackerNews) -> None:
    fake.pagination_limit = 20  # the real limit is 1000; same behaviour, fewer hits to make
    # Three hits per second, so the window's lower edge falls inside a second more than once;
    # spread wider than the overlap so only the edge bookkeeping can catch the repeats.
    hits = [fake.add_story(f"Acme burst {i}", created_at_i=ago(500) - (i // 3) * 20) for i in range(47)]
    source = make_source(fake, hits_per_page=10)
    mentions, _, pages = drain(source, {})
    got = ids(mentions)
    assert sorted(got) == sorted(h["objectID"] for h in hits) and len(got) == len(set(got))
    assert not any(p.gaps for p in pages)
    assert [r.arg("page") for r in searches(fake)].count("0") > 2  # restarted at page 0 lower down


def test_restart_mid_pagination_loses_and_repeats_nothing(fake: FakeHackerNews) -> None:
    fake.add_story("Acme baseline", created_at_i=ago(3000))
    first = make_source(fake, hits_per_page=10, lookback_seconds=7200)
    _, cursor, _ = drain(first, {})
    new = [fake.add_story(f"Acme thread {i}", created_at_i=ago(600) + i) for i in range(25)]

    page = first.fetch(cursor)
    assert page.more and len(page.mentions) == 10 and page.cursor["terms"]["Acme"]["run"]["page"] == 1
    first.close()  # the process dies after the page and its cursor were stored

    late = fake.add_comment("Acme, posted while we were down", created_at_i=ago(1))
    second = make_source(fake, hits_per_page=10, lookback_seconds=7200)
    fake.fail(Response(502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"}))
    with pytest.raises(SourceUnavailable, match="502"):
        second.fetch(page.cursor)
    rest, cursor, _ = drain(second, page.cursor)
    got = ids(page.mentions) + ids(rest)
    assert sorted(got) == sorted(h["objectID"] for h in new) and len(got) == len(set(got))
    assert ids(drain(second, cursor)[0]) == [late["objectID"]]


def test_backlog_beyond_budgeted_pages_is_recorded_as_gap(fake: FakeHackerNews) -> None:
    fake.add_story("Acme baseline", created_at_i=ago(1800))
    source = make_source(fake, hits_per_page=5, backlog_pages=2)
    _, cursor, _ = drain(source, {})
    for i in range(20):
        fake.add_story(f"Acme storm {i}", created_at_i=ago(900) + i)
    mentions, cursor, pages = drain(source, cursor)
    assert len(mentions) == 10
    (gap,) = [g for p in pages for g in p.gaps]
    # Ten storm posts were never read, plus the baseline that sits in the overlap window.
    assert gap.estimated_missed == 11 and gap.start < gap.end
    assert drain(source, cursor)[0] == []


# -- errors ------------------------------------------------------------------------------------
def test_429_raises_rate_limited_with_reset_when_given(fake: FakeHackerNews) -> None:
    story = fake.add_story("Acme again", created_at_i=ago(10))
    source = make_source(fake)
    fake.fail(algolia_error(429, "Too many requests"))
    with pytest.raises(RateLimited) as err:
        source.fetch({})
    assert err.value.reset_at is None  # Algolia says nothing about when; the scheduler backs off
    limited = algolia_error(429, "Too many requests")
    limited.headers["Retry-After"] = "30"
    fake.fail(limited)
    with pytest.raises(RateLimited) as err:
        source.fetch({})
    assert err.value.retry_after == 30 and err.value.reset_at is not None
    assert 28 <= err.value.reset_at.timestamp() - time.time() <= 31
    assert ids(drain(source, {})[0]) == [story["objectID"]]


def test_5xx_then_recovery(fake: FakeHackerNews) -> None:
    story = fake.add_story("Acme works again", created_at_i=ago(10))
    source = make_source(fake)
    fake.fail(Response(503, b"", {"Content-Type": "application/json"}), times=2)
    for _ in range(2):
        with pytest.raises(SourceUnavailable, match="503"):
            source.fetch({})
    assert ids(drain(source, {})[0]) == [story["objectID"]]


def test_timeout_raises_unavailable_then_recovers(fake: FakeHackerNews) -> None:
    story = fake.add_story("Acme slow", created_at_i=ago(10))
    source = make_source(fake, timeout=0.3)
    fake.fail(Response(200, {"hits": []}, delay=0.8))
    with pytest.raises(SourceUnavailable, match="timed out"):
        source.fetch({})
    assert ids(drain(source, {})[0]) == [story["objectID"]]


def test_malformed_bodies_raise(fake: FakeHackerNews) -> None:
    source = make_source(fake)
    fake.fail(Response(200, "<html>maintenance</html>", {"Content-Type": "text/html"}))
    with pytest.raises(MalformedResponse, match="expected JSON"):
        source.fetch({})
    fake.fail(Response(200, {"results": []}))
    with pytest.raises(MalformedResponse, match="hits"):
        source.fetch({})
    fake.fail(algolia_error(400, "invalid numericFilters"))
    with pytest.raises(MalformedResponse, match="400"):
        source.fetch({})


def test_malformed_hits_are_logged_and_skipped(fake: FakeHackerNews, caplog: Any) -> None:
    good = fake.add_story("Acme is fine", created_at_i=ago(10))
    no_id = dict(fake.add_story("Acme missing id", created_at_i=ago(11)))
    del no_id["objectID"]
    bad_time = dict(fake.add_story("Acme bad time", created_at_i=ago(12)))
    bad_time.update(created_at_i=None, created_at="soon")
    body = {
        "hits": [good, no_id, bad_time, ["not", "a", "hit"]],
        "nbHits": 4,
        "page": 0,
        "nbPages": 1,
        "hitsPerPage": 100,
    }
    fake.fail(Response(200, body))
    source = make_source(fake)
    with caplog.at_level(logging.WARNING, logger="monitor.sources.hackernews"):
        page = source.fetch({})
    assert ids(page.mentions) == [good["objectID"]] and page.skipped == Counter({"malformed": 3})
    assert len(caplog.records) == 3 and all("hn-test" in r.getMessage() for r in caplog.records)


def test_null_and_empty_fields(fake: FakeHackerNews) -> None:
    link = fake.add_story(
        "Acme acquires a rival", url="https://example.com/acme", story_text=None, created_at_i=ago(40)
    )
    ask = fake.add_story(
        "Ask HN: Anyone else moving off Acme?",
        url="",
        story_text="We&#x27;re <i>stuck</i> on it.<p>Ideas?",
        created_at_i=ago(30),
    )
    # A deleted comment: no author, no text; Algolia still finds it by its story's title.
    gone = fake.add_comment("Acme", author=None, story=link, created_at_i=ago(20))
    gone["comment_text"] = None
    dated = fake.add_comment("Acme docs are out of date", created_at_i=ago(10))
    fake.fail(
        Response(
            200,
            {
                "hits": [dict(dated, created_at_i=None)],
                "nbHits": 1,
                "page": 0,
                "nbPages": 1,
                "hitsPerPage": 100,
                "query": "Acme",
            },
        )
    )
    source = make_source(fake)
    only = source.fetch({})
    assert ids(only.mentions) == [dated["objectID"]]
    # created_at_i was null: the time comes from the ISO created_at.
    assert only.mentions[0].created_at == datetime.fromtimestamp(dated["created_at_i"], UTC)

    mentions, _, pages = drain(make_source(fake), {})
    by_id = {m.external_id: m for m in mentions}
    assert by_id[link["objectID"]].text == "Acme acquires a rival\n\nhttps://example.com/acme"
    ask_text = "Ask HN: Anyone else moving off Acme?\n\nWe're stuck on it.\n\nIdeas?"
    assert by_id[ask["objectID"]].text == ask_text
    assert gone["objectID"] not in by_id and pages[0].skipped["deleted"] == 1


def test_request_budget_per_hour(fake: FakeHackerNews) -> None:
    source = make_source(fake, request_budget_per_hour=1)
    page = source.fetch({})
    with pytest.raises(BudgetExhausted) as err:
        source.fetch(page.cursor)
    assert err.value.resets_at is not None and err.value.resets_at > datetime.now(UTC)
    assert len(searches(fake)) == 1


def test_settings_and_registry() -> None:
    settings = HackerNewsSettings()
    assert settings.tags == ["story", "comment"] and settings.hits_per_page == 100
    assert settings.overlap_seconds == 120
    assert source_class("hackernews") is HackerNewsSource
    assert HackerNewsSource.default_api_base == "https://hn.algolia.com/api/v1"


# -- through the real config loader, scheduler and database ---------------------------------------------
def test_end_to_end_with_scheduler_and_database(fake: FakeHackerNews, sqlite_url: str) -> None:
    from sqlalchemy import func, select

    from monitor.config import parse_config
    from monitor.daemon import build_sources
    from monitor.pipeline import Pipeline
    from monitor.scheduler import SourceRunner
    from monitor.store import models as m
    from monitor.store.db import make_engine, migrate

    config = parse_config(
        {
            "brand": {"names": ["Acme"], "keywords": ["RoadRunner"], "handles": {"hackernews": ["acme_hq"]}},
            "sources": {
                "hn": {
                    "platform": "hackernews",
                    "api_base": fake.api_base,
                    "hits_per_page": 10,
                    "max_pages_per_poll": 2,
                }
            },
        }
    )
    engine = make_engine(sqlite_url)
    migrate(engine)

    def runner() -> SourceRunner:  # a fresh process each time: new source, cursor from the database
        source = build_sources(config)["hn"]
        return SourceRunner("hn", source, Pipeline(engine, config, alerts_enabled=False), engine)

    assert runner().poll().state == "ok"  # first poll of both terms
    hits = [fake.add_story(f"Acme outage day {i}", created_at_i=ago(300) + i) for i in range(25)]
    hits.append(fake.add_comment("RoadRunner deploys are stuck", created_at_i=ago(5)))
    fake.add_comment("Acme here, we are on it", author="acme_hq", created_at_i=ago(3))

    first = runner().poll()  # the page cap stops this poll in the middle of the first term
    assert (first.pages, first.state) == (2, "ok")
    fake.fail(algolia_error(502, "Bad Gateway"))
    assert runner().poll().state == "degraded"
    for _ in range(4):
        runner().poll()
    with engine.connect() as conn:
        stored = conn.execute(
            select(m.Mention.external_id).where(m.Mention.platform == "hackernews")
        ).scalars()
        row = conn.execute(select(m.SourceCursor).where(m.SourceCursor.source == "hn")).one()
        gaps = conn.execute(select(func.count()).select_from(m.CoverageGap)).scalar()
        stored = sorted(stored.all())
    assert stored == sorted(h["objectID"] for h in hits)
    assert row.state == "ok" and row.skipped.get("own_post") == 1
    assert all(t["run"] is None for t in row.cursor["terms"].values())
    assert gaps == 1  # the 502 outage, closed again
    engine.dispose()
