"""The Reddit source against a fake Reddit on 127.0.0.1: real HTTP, real token flow, real paging."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from monitor.brand import BrandSettings
from monitor.mention import Mention
from monitor.sources import source_class
from monitor.sources.base import (
    AuthFailed,
    BudgetExhausted,
    MalformedResponse,
    Page,
    RateLimited,
    SourceUnavailable,
)
from monitor.sources.reddit import RedditSettings, RedditSource
from tests.fakes.reddit import FakeReddit, empty_503, errors_in_200, html_429, token_429
from tests.fakes.server import Response

BRAND = BrandSettings(
    names=["Acme"],
    keywords=["RoadRunner Pro"],
    handles={"reddit": ["acme_support"]},
    exclusions=["giveaway"],
    muted_authors={"reddit": ["spammy"]},
)


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    with FakeReddit(username="acme_support") as server:
        yield server


def make_source(fake: FakeReddit, **overrides: Any) -> RedditSource:
    values: dict[str, Any] = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "username": fake.username,
        "password": fake.password,
        "api_base": fake.url,
        "auth_base": fake.url,
        "timeout": 2,
    }
    values.update(overrides)
    return RedditSource("reddit-test", RedditSettings(**values), BRAND)


Polled = tuple[list[Mention], dict[str, Any], list[Page]]


def drain(source: RedditSource, cursor: dict[str, Any], max_pages: int = 100) -> Polled:
    """What the scheduler does in one poll: fetch while ``more``, keeping the last cursor."""
    pages: list[Page] = []
    while True:
        page = source.fetch(cursor)
        pages.append(page)
        cursor = page.cursor
        if not page.more or len(pages) >= max_pages:
            return [m for p in pages for m in p.mentions], cursor, pages


def ago(seconds: float) -> float:
    return time.time() - seconds


def ids(mentions: list[Mention]) -> list[str]:
    return [m.external_id for m in mentions]


def api_requests(fake: FakeReddit, path: str) -> list[Any]:
    return [r for r in fake.requests if r.path == path]


# -- first and incremental polls ----------------------------------------------------------
def test_first_poll_reads_posts_comments_and_username_mentions(fake: FakeReddit) -> None:
    post = fake.add_post("Is Acme down for anyone?", selftext="Login fails since noon.", created_utc=ago(600))
    comment = fake.add_comment("Acme support answered me in 5 minutes", post=post, created_utc=ago(300))
    mention = fake.add_username_mention("hey u/acme_support my order never arrived", created_utc=ago(200))
    fake.add_post("Acme from last week", created_utc=ago(7 * 86400))  # before the first poll's lookback

    source = make_source(fake)
    mentions, _, pages = drain(source, {})

    by_id = {m.external_id: m for m in mentions}
    assert sorted(by_id) == sorted([post["name"], comment["name"], mention["name"]])
    assert len(pages) == 3 and pages[-1].more is False
    p = by_id[post["name"]]
    assert p.text == "Is Acme down for anyone?\n\nLogin fails since noon."
    assert p.url == f"https://www.reddit.com{post['permalink']}"
    assert p.created_at == datetime.fromtimestamp(post["created_utc"], UTC)
    assert p.author_handle == "someone" and p.author_id == post["author_fullname"]
    assert p.conversation_id == post["name"] and p.in_reply_to_id is None
    c = by_id[comment["name"]]
    assert c.in_reply_to_id == post["name"] and c.conversation_id == post["name"]
    assert c.url == f"https://www.reddit.com{post['permalink']}{comment['id']}/"
    m = by_id[mention["name"]]
    assert m.addressed_to_brand is True and p.addressed_to_brand is False
    assert m.url.endswith(f"/{mention['id']}/") and "?" not in m.url  # context=3 dropped
    assert m.conversation_id is not None and m.conversation_id.startswith("t3_")
    # The mention's comment also turns up in comment search ("acme" inside "acme_support"),
    # where it is not a brand-name match; it came in through the inbox instead.
    assert sum(p.skipped["no_brand_term"] for p in pages) == 1

    token_calls = api_requests(fake, "/api/v1/access_token")
    assert len(token_calls) == 1
    assert token_calls[0].form()["grant_type"] == ["password"]
    assert token_calls[0].headers["authorization"].startswith("Basic ")
    search = api_requests(fake, "/search")
    assert {r.arg("type") for r in search} == {"link", "comment"}
    assert all(r.arg("sort") == "new" and r.arg("raw_json") == "1" for r in search)
    assert search[0].arg("q") == '"Acme" OR "RoadRunner Pro"'
    assert search[0].headers["user-agent"].endswith("(by /u/acme_support)")
    assert api_requests(fake, "/message/mentions")[0].arg("mark") == "false"
    assert sum(p.requests for p in pages) == 4  # one token + three listings


def test_incremental_poll_returns_only_new_items(fake: FakeReddit) -> None:
    old = fake.add_post("Acme changed its pricing", created_utc=ago(120))
    source = make_source(fake)
    first, cursor, _ = drain(source, {})
    assert ids(first) == [old["name"]]

    new = fake.add_post("Acme pricing is fine actually", created_utc=ago(5))
    second, cursor, pages = drain(source, cursor)
    assert ids(second) == [new["name"]]
    # The old post sits in the overlap window: re-read, recognised, not handed out again.
    assert sum(p.skipped["already_seen"] for p in pages) == 1
    third, _, _ = drain(source, cursor)
    assert third == []


def test_zero_results(fake: FakeReddit) -> None:
    source = make_source(fake)
    mentions, cursor, pages = drain(source, {})
    assert mentions == [] and len(pages) == 3
    assert all(p.items_read == 0 and not p.gaps for p in pages)
    assert set(cursor["streams"]) == {"link", "comment", "inbox"}
    assert all(s["next"] is None and s["hw"] is not None for s in cursor["streams"].values())
    assert drain(source, cursor)[0] == []


def test_after_an_empty_first_poll_every_new_page_is_read(fake: FakeReddit) -> None:
    source = make_source(fake, limit=10, search_types=["link"], inbox=False)
    empty, cursor, _ = drain(source, {})
    assert empty == []
    posts = [fake.add_post(f"Acme question {i}", created_utc=ago(100 - i)) for i in range(25)]
    mentions, _, pages = drain(source, cursor)
    assert sorted(ids(mentions)) == sorted(p["name"] for p in posts) and len(pages) == 3


def test_pagination_across_pages_follows_after(fake: FakeReddit) -> None:
    source = make_source(fake, limit=10, search_types=["link"], inbox=False)
    fake.add_post("Acme baseline", created_utc=ago(3000))
    _, cursor, _ = drain(source, {})
    posts = [fake.add_post(f"Acme question {i}", created_utc=ago(1000 - i * 10)) for i in range(35)]
    mentions, _, pages = drain(source, cursor)
    assert sorted(ids(mentions)) == sorted(p["name"] for p in posts)
    assert len(ids(mentions)) == len(set(ids(mentions)))
    afters = [r.arg("after") for r in api_requests(fake, "/search")][1:]
    # Four pages of ten reach the baseline post, which is below the overlap floor: stop there.
    assert afters[0] is None and len(afters) == 4 and [p.more for p in pages] == [True] * 3 + [False]
    # Each page continues after the last fullname of the previous page.
    assert afters[1:] == [pages[i].mentions[-1].external_id for i in range(3)]


def test_first_poll_reads_one_page_only(fake: FakeReddit) -> None:
    posts = [fake.add_post(f"Acme question {i}", created_utc=ago(1000 - i * 10)) for i in range(35)]
    source = make_source(fake, limit=10, search_types=["link"], inbox=False)
    mentions, cursor, pages = drain(source, {})
    # History from before the monitor started is not a gap: the newest page sets the mark.
    assert ids(mentions) == [p["name"] for p in reversed(posts[-10:])] and len(pages) == 1
    assert cursor["streams"]["link"]["hw"] == int(posts[-1]["created_utc"]) and not pages[0].gaps


def test_subreddit_list_restricts_the_search(fake: FakeReddit) -> None:
    inside = fake.add_post("Acme on python", subreddit="Python", created_utc=ago(60))
    fake.add_post("Acme elsewhere", subreddit="gaming", created_utc=ago(60))
    source = make_source(fake, subreddits=["python", "r/technology"], search_types=["link"], inbox=False)
    mentions, _, _ = drain(source, {})
    assert ids(mentions) == [inside["name"]]
    request = fake.requests[-1]
    assert request.path == "/r/python+technology/search" and request.arg("restrict_sr") == "1"


# -- noise ----------------------------------------------------------------------------------
def test_noise_is_skipped_and_counted_per_reason(fake: FakeReddit) -> None:
    keep = fake.add_post("Acme ate my homework", created_utc=ago(100))
    fake.add_post("Acme status update", author="acme_support", created_utc=ago(99))  # the brand's own post
    fake.add_post("Acme ate my homework", author="reposter", crosspost_of=keep, created_utc=ago(98))
    fake.add_post("Acme giveaway, click here", created_utc=ago(97))
    fake.add_post("Acme is the worst", author="spammy", created_utc=ago(96))
    fake.add_post("Visiting Acmeville this summer", created_utc=ago(95))  # search matched inside a word
    source = make_source(fake, inbox=False)
    mentions, _, pages = drain(source, {})
    assert ids(mentions) == [keep["name"]]
    skipped = sum((p.skipped for p in pages), start=type(pages[0].skipped)())
    assert skipped == {"own_post": 1, "repost": 1, "excluded_term": 1, "muted_author": 1, "no_brand_term": 1}


def test_removed_comment_counts_as_deleted(fake: FakeReddit) -> None:
    comment = fake.add_comment("Acme", created_utc=ago(50))
    # Removed after the search index saw "Acme": search still returns it, with the body gone.
    removed = dict(comment, body="[removed]", author="[deleted]")
    listing = {
        "kind": "Listing",
        "data": {
            "after": None,
            "dist": 1,
            "modhash": None,
            "geo_filter": "",
            "children": [{"kind": "t1", "data": removed}],
            "before": None,
        },
    }
    fake.fail(Response(200, listing), path="/search")
    source = make_source(fake, search_types=["comment"], inbox=False)
    mentions, _, pages = drain(source, {})
    assert mentions == [] and pages[0].skipped == {"deleted": 1}


# -- errors, throttling, recovery ------------------------------------------------------------
def test_html_429_with_retry_after_raises_rate_limited(fake: FakeReddit) -> None:
    post = fake.add_post("Acme outage", created_utc=ago(30))
    source = make_source(fake)
    fake.fail(html_429(retry_after=7), path="/search")
    before = time.time()
    with pytest.raises(RateLimited) as err:
        source.fetch({})
    assert err.value.retry_after == 7
    assert err.value.reset_at is not None and 6 <= err.value.reset_at.timestamp() - before <= 9
    mentions, _, _ = drain(source, {})  # the scheduler retries with the cursor it kept
    assert post["name"] in ids(mentions)


def test_token_endpoint_json_429_has_no_retry_after(fake: FakeReddit) -> None:
    source = make_source(fake)
    fake.fail(token_429(), path="/api/v1/access_token")
    with pytest.raises(RateLimited) as err:
        source.fetch({})
    assert err.value.retry_after is None and err.value.reset_at is None


def test_remaining_zero_stops_before_the_next_request(fake: FakeReddit) -> None:
    fake.set_remaining(1, reset_in=120)
    source = make_source(fake)
    page = source.fetch({})  # spends the last request; headers say "0.0" remaining
    sent = len(fake.requests)
    with pytest.raises(RateLimited) as err:
        source.fetch(page.cursor)
    assert len(fake.requests) == sent  # nothing was sent
    assert err.value.reset_at is not None and 100 <= err.value.reset_at.timestamp() - time.time() <= 121


def test_errors_inside_a_200_body(fake: FakeReddit) -> None:
    source = make_source(fake)
    throttled = [["RATELIMIT", "you are doing that too much. try again in 3 minutes.", "ratelimit"]]
    fake.fail(errors_in_200(throttled), path="/search")
    with pytest.raises(RateLimited) as err:
        source.fetch({})
    assert err.value.retry_after == 180
    fake.fail(errors_in_200([["SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr"]]), path="/search")
    with pytest.raises(MalformedResponse, match="SUBREDDIT_NOEXIST"):
        source.fetch({})


def test_503_with_empty_body_then_recovery(fake: FakeReddit) -> None:
    post = fake.add_post("Acme works again", created_utc=ago(20))
    source = make_source(fake)
    fake.fail(empty_503(), path="/search")
    with pytest.raises(SourceUnavailable, match="503"):
        source.fetch({})
    mentions, _, _ = drain(source, {})
    assert ids(mentions) == [post["name"]]


def test_timeout_raises_unavailable_then_recovers(fake: FakeReddit) -> None:
    post = fake.add_post("Acme is slow today", created_utc=ago(20))
    source = make_source(fake, timeout=0.3)
    fake.fail(Response(200, {"kind": "Listing", "data": {}}, delay=0.8), path="/search")
    with pytest.raises(SourceUnavailable, match="timed out"):
        source.fetch({})
    mentions, _, _ = drain(source, {})
    assert ids(mentions) == [post["name"]]


def test_non_json_body_is_malformed(fake: FakeReddit) -> None:
    source = make_source(fake)
    maintenance = Response(200, "<html><body>maintenance</body></html>", {"Content-Type": "text/html"})
    fake.fail(maintenance, path="/search")
    with pytest.raises(MalformedResponse, match="expected JSON"):
        source.fetch({})
    fake.fail(Response(200, {"kind": "t3", "data": []}), path="/search")
    with pytest.raises(MalformedResponse, match="Listing"):
        source.fetch({})


def test_malformed_items_are_logged_and_skipped(fake: FakeReddit, caplog: pytest.LogCaptureFixture) -> None:
    good = fake.add_post("Acme rocks", created_utc=ago(10))
    broken_time = dict(fake.add_post("Acme broken", created_utc=ago(11)), created_utc="yesterday")
    children = [
        {"kind": "t3", "data": good},
        {"kind": "t3", "data": broken_time},
        {"kind": "t3", "data": None},
        {"kind": "t5", "data": {"name": "t5_x", "created_utc": ago(12)}},
        "not even an object",
    ]
    listing = {
        "kind": "Listing",
        "data": {
            "after": None,
            "dist": 5,
            "modhash": None,
            "geo_filter": "",
            "children": children,
            "before": None,
        },
    }
    fake.fail(Response(200, listing), path="/search")
    source = make_source(fake, search_types=["link"], inbox=False)
    with caplog.at_level(logging.WARNING, logger="monitor.sources.reddit"):
        page = source.fetch({})
    assert ids(page.mentions) == [good["name"]]
    assert page.skipped["malformed"] == 4 and page.items_read == 5
    assert all("reddit-test" in r.getMessage() for r in caplog.records) and len(caplog.records) == 4


def test_null_and_empty_fields(fake: FakeReddit) -> None:
    gone = fake.add_post("Acme thread by a deleted account", author="[deleted]", created_utc=ago(10))
    gone.update(selftext="[deleted]", link_flair_text=None, edited=1_700_000_000.0)
    comment = fake.add_comment("Acme reply", created_utc=ago(5))
    del comment["link_id"]
    comment["author_fullname"] = None
    source = make_source(fake, inbox=False)
    mentions, _, pages = drain(source, {})
    by_id = {m.external_id: m for m in mentions}
    assert by_id[gone["name"]].author_handle == "[deleted]" and by_id[gone["name"]].author_id is None
    assert by_id[gone["name"]].text == "Acme thread by a deleted account"
    assert by_id[comment["name"]].conversation_id == comment["parent_id"]  # from the permalink
    assert by_id[comment["name"]].author_id is None
    assert not any(p.skipped["malformed"] for p in pages)


# -- auth ------------------------------------------------------------------------------------------
def test_expired_token_is_refreshed_once(fake: FakeReddit) -> None:
    source = make_source(fake)
    _, cursor, _ = drain(source, {})
    fake.expire_tokens()
    post = fake.add_post("Acme after the token expired", created_utc=ago(1))
    mentions, _, _ = drain(source, cursor)
    assert ids(mentions) == [post["name"]]
    assert fake.token_requests == 2


def test_persistent_401_raises_auth_failed_after_one_refresh(fake: FakeReddit) -> None:
    source = make_source(fake)
    unauthorized = Response(401, {"message": "Unauthorized", "error": 401})
    fake.fail(unauthorized, path="/search", times=2)
    with pytest.raises(AuthFailed):
        source.fetch({})
    assert fake.token_requests == 2


def test_wrong_password_200_invalid_grant_and_wrong_secret_401(fake: FakeReddit) -> None:
    with pytest.raises(AuthFailed, match="invalid_grant"):
        make_source(fake, password="wrong").fetch({})
    with pytest.raises(AuthFailed, match="401"):
        make_source(fake, client_secret="wrong").fetch({})


# -- restart, gaps, budget ----------------------------------------------------------------------------
def test_restart_mid_pagination_loses_and_repeats_nothing(fake: FakeReddit) -> None:
    fake.add_post("Acme baseline", created_utc=ago(3600))
    first = make_source(fake, limit=10, search_types=["link"], inbox=False, lookback_seconds=7200)
    _, cursor, _ = drain(first, {})
    new = [fake.add_post(f"Acme thread {i}", created_utc=ago(600 - i)) for i in range(25)]

    page = first.fetch(cursor)
    assert page.more and len(page.mentions) == 10 and page.cursor["streams"]["link"]["next"]
    first.close()  # the process dies after the page and its cursor were stored

    late = fake.add_post("Acme posted while we were down", created_utc=ago(1))
    second = make_source(fake, limit=10, search_types=["link"], inbox=False, lookback_seconds=7200)
    fake.fail(empty_503(), path="/search")  # and the first request after the restart fails
    with pytest.raises(SourceUnavailable):
        second.fetch(page.cursor)
    rest, cursor, _ = drain(second, page.cursor)
    got = ids(page.mentions) + ids(rest)
    assert sorted(got) == sorted(p["name"] for p in new)
    assert len(got) == len(set(got))
    after, _, _ = drain(second, cursor)
    assert ids(after) == [late["name"]]


def test_reddit_listing_cap_is_recorded_as_gap(fake: FakeReddit) -> None:
    source = make_source(fake, search_types=["link"], inbox=False)
    fake.add_post("Acme baseline", created_utc=ago(3000))
    _, cursor, _ = drain(source, {})
    flood = [fake.add_post(f"Acme flood {i}", created_utc=ago(2000 - i)) for i in range(1050)]
    mentions, _, pages = drain(source, cursor)
    assert len(mentions) == 1000
    gaps = [g for p in pages for g in p.gaps]
    assert len(gaps) == 1 and "1000" in gaps[0].reason
    # From the previous mark up to the oldest post the listing still showed.
    # The listing's oldest is flood[50] (the newest 1000 of 1050); the 50 below it are the gap.
    assert gaps[0].start < gaps[0].end == datetime.fromtimestamp(int(flood[50]["created_utc"]), UTC)


def test_request_budget_per_hour(fake: FakeReddit) -> None:
    source = make_source(fake, request_budget_per_hour=2)
    page = source.fetch({})  # token + first search
    with pytest.raises(BudgetExhausted) as err:
        source.fetch(page.cursor)
    assert err.value.resets_at is not None and err.value.resets_at > datetime.now(UTC)


# -- settings and registry -----------------------------------------------------------------------------
def test_settings_validate_and_read_secret_files(tmp_path: Any) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    settings = RedditSettings(client_id="id", client_secret_file=str(secret), username="u", password="p")
    assert settings.client_secret.get_secret_value() == "s3cret"
    assert settings.search_types == ["link", "comment"] and settings.inbox is True
    with pytest.raises(ValidationError, match="subreddit"):
        RedditSettings(client_id="i", client_secret="s", username="u", password="p", subreddits=["a b"])
    assert source_class("reddit") is RedditSource
    assert RedditSource.default_api_base == "https://oauth.reddit.com"


# -- through the real config loader, scheduler and database ---------------------------------------------
def test_end_to_end_with_scheduler_and_database(fake: FakeReddit, sqlite_url: str, tmp_path: Any) -> None:
    from sqlalchemy import func, select

    from monitor.config import parse_config
    from monitor.daemon import build_sources
    from monitor.pipeline import Pipeline
    from monitor.scheduler import SourceRunner
    from monitor.store import models as m
    from monitor.store.db import make_engine, migrate

    (tmp_path / "secret").write_text(fake.client_secret)
    (tmp_path / "password").write_text(fake.password)
    config = parse_config(
        {
            "brand": {"names": ["Acme"], "handles": {"reddit": ["acme_support"]}},
            "sources": {
                "reddit": {
                    "client_id": fake.client_id,
                    "client_secret_file": str(tmp_path / "secret"),
                    "username": fake.username,
                    "password_file": str(tmp_path / "password"),
                    "api_base": fake.url,
                    "auth_base": fake.url,
                    "limit": 10,
                    "max_pages_per_poll": 2,
                }
            },
        }
    )
    engine = make_engine(sqlite_url)
    migrate(engine)

    def runner() -> SourceRunner:  # a fresh process each time: new source, cursor from the database
        source = build_sources(config)["reddit"]
        return SourceRunner("reddit", source, Pipeline(engine, config, alerts_enabled=False), engine)

    # The first round sets the marks of all three streams; the page cap splits it over two polls.
    assert [(o.pages, o.state) for o in (runner().poll(), runner().poll())] == [(2, "ok"), (1, "ok")]
    posts = [fake.add_post(f"Acme order {i} never arrived", created_utc=ago(300 - i)) for i in range(25)]
    fake.add_post("Acme is hiring", author="acme_support", created_utc=ago(1))
    mention = fake.add_username_mention("u/acme_support please call me back", created_utc=ago(2))

    first = runner().poll()  # the page cap stops this poll in the middle of the post search
    assert (first.pages, first.state) == (2, "ok")
    fake.fail(empty_503(), path="/search")
    assert runner().poll().state == "degraded"

    def round_open() -> bool:
        with engine.connect() as conn:
            query = select(m.SourceCursor.cursor).where(m.SourceCursor.source == "reddit")
            cursor = conn.execute(query).scalar()
        return bool(cursor.get("todo"))

    for _ in range(10):  # until a round completes (streams take turns, so when depends on the backlog)
        runner().poll()
        if not round_open():
            break
    with engine.connect() as conn:
        stored = (
            conn.execute(select(m.Mention.external_id).where(m.Mention.platform == "reddit")).scalars().all()
        )
        row = conn.execute(select(m.SourceCursor).where(m.SourceCursor.source == "reddit")).one()
        gaps = conn.execute(select(func.count()).select_from(m.CoverageGap)).scalar()
    assert sorted(stored) == sorted([p["name"] for p in posts] + [mention["name"]])
    assert row.state == "ok" and row.skipped.get("own_post") == 1
    assert all(s["next"] is None for s in row.cursor["streams"].values())
    assert gaps == 1  # the 503 outage, closed again
    engine.dispose()
