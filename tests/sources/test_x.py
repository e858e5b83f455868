"""The X source against the fake X API on 127.0.0.1: polling, paging, budgets, failures and restarts."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.brand import BrandSettings
from monitor.mention import Mention
from monitor.sources import (
    AuthFailed,
    BudgetExhausted,
    Gap,
    MalformedResponse,
    Page,
    RateLimited,
    SourceUnavailable,
    source_class,
)
from monitor.sources.x import XSettings, XSource
from tests.fakes.server import Response
from tests.fakes.x import FakeUser, FakeX

BRAND = BrandSettings(
    names=["Acme", "Acme Cloud"],
    handles={"x": ["acme", "acmehelp"]},
    exclusions=["careers"],
    muted_authors={"x": ["spammer"]},
)


@dataclass
class Users:
    acme: FakeUser
    acmehelp: FakeUser
    alice: FakeUser
    bob: FakeUser
    carol: FakeUser


@dataclass
class Store:
    """What the scheduler persists: the cursor, stored with the mentions of the same page."""

    cursor: dict[str, Any] = field(default_factory=dict)
    mentions: dict[str, Mention] = field(default_factory=dict)
    duplicates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    gaps: list[Gap] = field(default_factory=list)
    reads: int = 0

    def save(self, page: Page) -> None:
        for mention in page.mentions:
            self.duplicates += mention.external_id in self.mentions
            self.mentions[mention.external_id] = mention
        # Round-trip through JSON as the database column does.
        self.cursor = json.loads(json.dumps(page.cursor))
        self.skipped.update(page.skipped)
        self.gaps += page.gaps
        self.reads += page.items_read


def poll(source: XSource, store: Store, max_pages: int | None = None) -> list[Page]:
    """One scheduler poll: fetch while ``more``, up to the page limit, saving each page."""
    pages = []
    for _ in range(max_pages or source.settings.max_pages_per_poll):
        page = source.fetch(store.cursor)
        store.save(page)
        pages.append(page)
        if not page.more:
            break
    return pages


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


@pytest.fixture
def users(fake: FakeX) -> Users:
    return Users(
        acme=fake.add_user("acme", name="Acme Inc", followers=50_000),
        acmehelp=fake.add_user("acmehelp", name="Acme Support", followers=900),
        alice=fake.add_user("alice", name="Alice A", followers=1234),
        bob=fake.add_user("bob", followers=7),
        carol=fake.add_user("carol", followers=0),
    )


def make_source(fake: FakeX, clock: Any = None, **overrides: Any) -> XSource:
    values: dict[str, Any] = {
        "api_base": fake.url,
        "bearer_token": fake.bearer_token,
        "username": "acme",
        "timeout": 2.0,
        "daily_read_budget": None,
    }
    values.update(overrides)
    return XSource("x", XSettings(**values), BRAND, clock=clock)


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def requests_to(fake: FakeX, path_part: str) -> list[Any]:
    return [r for r in fake.requests if path_part in r.path]


# -- first and incremental polls ------------------------------------------------------


def test_first_poll_normalizes_mentions_and_filters_noise(fake: FakeX, users: Users) -> None:
    late = fake.post(users.alice, "@acme my order is three days late")
    praise = fake.post(users.bob, "Loving Acme Cloud today", lang="en")
    fake.post(users.carol, "RT whatever", retweet_of=late)
    fake.post(users.acmehelp, "@alice @acme sorry, we are on it", reply_to=late)
    fake.post(users.acme, "Acme ships a new release")
    fake.post(users.bob, "Acme careers fair next week")
    fake.post(users.bob, "nothing to see here")
    source = make_source(fake)
    store = Store()

    pages = poll(source, store)

    assert [p.more for p in pages] == [True, False]
    assert set(store.mentions) == {late["id"], praise["id"]}
    m = store.mentions[late["id"]]
    assert m.platform == "x"
    assert m.url == f"https://x.com/alice/status/{late['id']}"
    assert m.author_handle == "alice" and m.author_name == "Alice A" and m.author_followers == 1234
    assert m.author_id == users.alice.id
    assert m.created_at == _iso(late["created_at"])
    assert m.created_at.tzinfo is not None
    assert m.conversation_id == late["id"] and m.language == "en" and m.addressed_to_brand
    assert store.mentions[praise["id"]].addressed_to_brand is False
    # The mentions timeline carries the retweet and the brand's own reply; both are noise.
    assert store.skipped == Counter({"repost": 1, "own_post": 1})
    # The search query kept the brand's own post, the exclusion term and retweets out at X (unbilled).
    search = requests_to(fake, "/search/recent")[0]
    assert (
        search.arg("query") == '(Acme OR "Acme Cloud") -is:retweet -from:acme -from:acmehelp -@acme -careers'
    )
    assert "since_id" not in search.query
    assert store.cursor["mentions"]["since_id"] == max(
        t["id"] for t in fake.tweets.values() if "@acme" in t["text"]
    )
    assert store.cursor["search"]["since_id"] == praise["id"]
    assert store.reads == sum(p.items_read for p in pages) == len(fake.served) == 4


def test_incremental_poll_reads_only_newer_posts(fake: FakeX, users: Users) -> None:
    fake.post(users.alice, "@acme hello")
    source = make_source(fake)
    store = Store()
    poll(source, store)
    first_since = store.cursor["mentions"]["since_id"]
    fake.requests.clear()

    newer = fake.post(users.bob, "@acme is the app down?")
    pages = poll(source, store)

    assert [m.external_id for p in pages for m in p.mentions] == [newer["id"]]
    mentions_req = requests_to(fake, "/mentions")[0]
    assert mentions_req.arg("since_id") == first_since
    assert store.cursor["mentions"]["since_id"] == newer["id"]
    # X bills every read: nothing was returned twice.
    assert max(fake.served_counts().values()) == 1
    # The brand account's id was looked up once and kept in the cursor.
    assert len(requests_to(fake, "/users/by/username/acme")) == 0
    assert store.cursor["user_id"] == users.acme.id


def test_zero_results(fake: FakeX, users: Users) -> None:
    source = make_source(fake)
    store = Store()

    pages = poll(source, store)

    assert [p.mentions for p in pages] == [[], []]
    assert [p.items_read for p in pages] == [0, 0]
    assert store.cursor["mentions"].get("since_id") is None
    assert store.cursor["search"].get("since_id") is None
    assert pages[-1].more is False


# -- pagination -----------------------------------------------------------------------


def test_pagination_across_pages_with_next_token(fake: FakeX, users: Users) -> None:
    source = make_source(fake, max_results=10, search=False)
    store = Store()
    fake.post(users.alice, "@acme first")
    poll(source, store)
    since = store.cursor["mentions"]["since_id"]
    fake.requests.clear()
    posts = [fake.post(users.bob, f"@acme complaint number {i}") for i in range(25)]

    pages = poll(source, store)

    assert [len(p.mentions) for p in pages] == [10, 10, 5]
    assert [p.more for p in pages] == [True, True, False]
    reqs = requests_to(fake, "/mentions")
    assert [r.arg("since_id") for r in reqs] == [since] * 3
    assert reqs[0].arg("pagination_token") is None and reqs[1].arg("pagination_token")
    assert {p["id"] for p in posts} <= set(store.mentions)
    # The newest id becomes since_id only once the whole run is read.
    assert pages[0].cursor["mentions"]["since_id"] == since
    assert store.cursor["mentions"]["since_id"] == posts[-1]["id"]
    assert store.duplicates == 0


def test_search_pages_use_next_token(fake: FakeX, users: Users) -> None:
    source = make_source(fake, max_results=10, mentions=False)
    store = Store()
    fake.post(users.bob, "Acme is fine")
    poll(source, store)
    posts = [fake.post(users.carol, f"Acme thought {i}") for i in range(12)]
    fake.requests.clear()

    pages = poll(source, store)

    assert [len(p.mentions) for p in pages] == [10, 2]
    assert requests_to(fake, "/search/recent")[1].arg("next_token")
    assert {p["id"] for p in posts} <= set(store.mentions)
    # Without the mentions stream, search also asks for @-mentions of the brand.
    assert "@acme" in requests_to(fake, "/search/recent")[0].arg("query")


def test_first_poll_reads_only_initial_pages_and_records_the_gap(fake: FakeX, users: Users) -> None:
    posts = [fake.post(users.bob, f"@acme old {i}") for i in range(30)]
    source = make_source(fake, max_results=10, search=False, initial_pages=2)
    store = Store()

    pages = poll(source, store)

    assert len(pages) == 2 and store.reads == 20
    assert len(store.gaps) == 1 and "initial_pages" in store.gaps[0].reason
    assert store.cursor["mentions"]["since_id"] == posts[-1]["id"]
    fake.served.clear()
    poll(source, store)
    assert fake.served == []  # the backlog is not read later either


def test_restart_mid_pagination_loses_and_repeats_nothing(fake: FakeX, users: Users) -> None:
    store = Store()
    poll(make_source(fake, max_results=10), store)  # first poll: nothing yet
    batch = [fake.post(users.bob, f"@acme issue {i}") for i in range(23)]
    found = [fake.post(users.carol, f"Acme Cloud note {i}") for i in range(3)]

    # The scheduler stops after one page (max_pages_per_poll) and the process dies.
    poll(make_source(fake, max_results=10), store, max_pages=1)
    assert store.cursor["mentions"]["next_token"] and store.cursor["round"] == ["mentions", "search"]
    # Posts keep arriving while the daemon is down.
    late = fake.post(users.alice, "@acme still waiting")

    restarted = make_source(fake, max_results=10)
    poll(restarted, store)
    assert {p["id"] for p in batch + found} <= set(store.mentions)
    assert late["id"] not in store.mentions  # newer than the run in progress: next poll
    poll(restarted, store)

    assert late["id"] in store.mentions
    assert store.duplicates == 0
    assert set(fake.served_counts().values()) == {1}, "a post was read (and billed) twice"
    assert len(store.mentions) == len(batch) + len(found) + 1


def test_expired_pagination_token_continues_below_the_oldest_post_read(fake: FakeX, users: Users) -> None:
    store = Store()
    source = make_source(fake, max_results=10, search=False)
    poll(source, store)
    batch = [fake.post(users.bob, f"@acme outage report {i}") for i in range(25)]
    poll(source, store, max_pages=1)
    fake.expire_tokens()  # e.g. the daemon was down for a long time
    fake.requests.clear()

    poll(make_source(fake, max_results=10, search=False), store)

    assert {p["id"] for p in batch} == set(store.mentions)
    assert set(fake.served_counts().values()) == {1}
    # The refused token was replaced by until_id = the oldest post read so far.
    refused, retried = requests_to(fake, "/mentions")[:2]
    assert refused.arg("pagination_token") and retried.arg("until_id") == min(
        (p["id"] for p in batch[-10:]), key=int
    )
    assert store.cursor["mentions"]["since_id"] == batch[-1]["id"]
    assert "until_id" not in store.cursor["mentions"]


def test_search_since_id_older_than_seven_days_records_a_gap(fake: FakeX, users: Users) -> None:
    ancient = fake.post(users.bob, "Acme back then", created_at=datetime.now(UTC) - timedelta(days=9))
    store = Store()
    source = make_source(fake, mentions=False)
    poll(source, store)
    store.cursor["search"]["since_id"] = ancient["id"]  # as if the daemon had been stopped for 9 days
    recent = [
        fake.post(users.carol, "Acme two days ago", created_at=datetime.now(UTC) - timedelta(days=2)),
        fake.post(users.carol, "Acme today"),
    ]

    poll(source, store)

    assert {p["id"] for p in recent} <= set(store.mentions)
    [gap] = store.gaps
    assert "7 days" in gap.reason
    assert abs((gap.start - _iso(ancient["created_at"])).total_seconds()) < 1
    assert store.cursor["search"]["since_id"] == recent[-1]["id"]


# -- budget ---------------------------------------------------------------------------


def test_daily_read_budget_stops_polling_until_utc_midnight(fake: FakeX, users: Users) -> None:
    now = [datetime(2026, 11, 23, 22, 0, tzinfo=UTC)]
    source = make_source(fake, clock=lambda: now[0], daily_read_budget=15, max_results=10, search=False)
    store = Store()
    fake.post(users.alice, "@acme hi")
    poll(source, store)
    posts = [fake.post(users.bob, f"@acme spam wave {i}") for i in range(30)]

    pages = poll(source, store)  # 1 read before; pages of 10 then 5 (max_results shrinks to what is left)
    assert [p.more for p in pages] == [True, False]  # the poll ends cleanly as the budget runs out
    assert store.cursor["mentions"]["next_token"]  # and resumes there
    requests_before = len(fake.requests)
    with pytest.raises(BudgetExhausted) as err:
        source.fetch(store.cursor)

    assert store.cursor["reads"] == 16  # X's minimum page size (5) may overshoot by a little
    assert [r.arg("max_results") for r in requests_to(fake, "/mentions")] == ["10", "10", "5"]
    assert err.value.resets_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert err.value.state == "budget_spent"
    assert len(fake.requests) == requests_before  # no request once the budget is spent

    now[0] = datetime(2026, 11, 24, 0, 0, 5, tzinfo=UTC)
    poll(source, store)
    assert {p["id"] for p in posts} <= set(store.mentions)
    assert store.cursor["reads_day"] == "2026-11-24"
    assert set(fake.served_counts().values()) == {1}


def test_monthly_usage_cap_is_a_budget_state(fake: FakeX, users: Users) -> None:
    fake.fail(FakeX.usage_capped())
    with pytest.raises(BudgetExhausted) as err:
        make_source(fake, search=False, user_id=users.acme.id).fetch({})
    assert "monthly" in str(err.value)
    assert err.value.resets_at is not None and err.value.resets_at.day == 1


# -- failures -------------------------------------------------------------------------


def test_429_with_reset_header(fake: FakeX, users: Users) -> None:
    fake.post(users.alice, "@acme hi")
    source = make_source(fake, user_id=users.acme.id)
    fake.fail(FakeX.too_many_requests(reset_in=120), path=f"/2/users/{users.acme.id}/mentions")

    with pytest.raises(RateLimited) as err:
        source.fetch({})

    expected = datetime.now(UTC) + timedelta(seconds=120)
    assert err.value.reset_at is not None and abs((err.value.reset_at - expected).total_seconds()) < 5
    assert err.value.retry_after is not None and 110 < err.value.retry_after <= 121
    assert err.value.state == "rate_limited"
    assert len(poll(source, Store())[0].mentions) == 1  # the window reset: works again


def test_rate_limit_window_used_up_raises_before_requesting() -> None:
    with FakeX(rate_limit=1) as fake:
        alice = fake.add_user("alice")
        acme = fake.add_user("acme")
        fake.post(alice, "@acme one")
        source = make_source(fake, user_id=acme.id, search=False)
        store = Store()
        poll(source, store)
        sent = len(fake.requests)

        with pytest.raises(RateLimited) as err:
            source.fetch(store.cursor)
        assert len(fake.requests) == sent  # the last response said remaining 0: no doomed request
        assert err.value.reset_at is not None and err.value.reset_at > datetime.now(UTC)

        # A fresh process without that knowledge gets the fake's real 429 (text/plain).
        fresh = store.cursor | {
            "mentions": {k: v for k, v in store.cursor["mentions"].items() if k != "rate_reset"}
        }
        with pytest.raises(RateLimited) as err:
            source.fetch(fresh)
        assert len(fake.requests) == sent + 1
        assert err.value.retry_after is not None and err.value.retry_after > 800


def test_server_error_then_recovery(fake: FakeX, users: Users) -> None:
    post = fake.post(users.alice, "@acme anyone there?")
    source = make_source(fake, search=False)
    fake.fail(FakeX.server_error(503), path=f"/2/users/{users.acme.id}/mentions")
    fake.fail(FakeX.server_error(500), path=f"/2/users/{users.acme.id}/mentions")
    store = Store()

    for _ in range(2):
        with pytest.raises(SourceUnavailable) as err:
            source.fetch(store.cursor)
        assert err.value.state == "degraded"
    assert store.cursor == {}  # the scheduler keeps the old cursor on errors
    poll(source, store)

    assert list(store.mentions) == [post["id"]]


def test_timeout_is_source_unavailable(fake: FakeX, users: Users) -> None:
    post = fake.post(users.alice, "@acme hello?")
    source = make_source(fake, timeout=0.3, search=False, user_id=users.acme.id)
    fake.fail(Response(200, {"meta": {"result_count": 0}}, delay=0.8))

    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"no answer within 0\.3s"):
        source.fetch({})
    assert time.monotonic() - started < 0.75  # the fetch did not wait for the slow answer

    assert [m.external_id for m in source.fetch({}).mentions] == [post["id"]]


def test_malformed_body_is_a_malformed_response(fake: FakeX, users: Users) -> None:
    source = make_source(fake, search=False, user_id=users.acme.id)
    fake.fail(Response(200, "<html><body>upstream proxy error</body></html>", {"Content-Type": "text/html"}))
    with pytest.raises(MalformedResponse, match="expected JSON"):
        source.fetch({})
    fake.fail(Response(200, ["not", "an", "object"]))
    with pytest.raises(MalformedResponse, match="JSON object"):
        source.fetch({})
    fake.fail(Response(200, {"data": {"id": "1", "text": "x"}, "meta": {"result_count": 1}}))
    with pytest.raises(MalformedResponse, match="not a list"):
        source.fetch({})


def test_malformed_items_are_skipped_and_counted(fake: FakeX, users: Users) -> None:
    good = fake.post(users.alice, "@acme fine post")
    source = make_source(fake, search=False, user_id=users.acme.id)
    body = {
        "data": [
            {"id": good["id"], "text": good["text"], "author_id": users.alice.id},
            {"id": "123", "author_id": users.alice.id},  # no text
            {"text": "no id"},
            "a string, not a post",
            {"id": 42, "text": "numeric id"},
        ],
        "includes": {"users": [{"id": users.alice.id, "username": "alice", "name": "Alice"}]},
        "meta": {"result_count": 5, "newest_id": good["id"], "oldest_id": "123"},
    }
    fake.fail(Response(200, body))

    page = source.fetch({})

    assert [m.external_id for m in page.mentions] == [good["id"]]
    assert page.skipped == Counter({"malformed": 4})
    assert page.items_read == 5
    assert page.cursor["mentions"]["since_id"] == good["id"]


def test_null_fields_fall_back_instead_of_failing(fake: FakeX, users: Users) -> None:
    post = fake.post(users.alice, "@acme nulls everywhere")
    source = make_source(fake, search=False, user_id=users.acme.id)
    item = {
        key: None
        for key in (
            "author_id",
            "created_at",
            "lang",
            "conversation_id",
            "entities",
            "referenced_tweets",
            "in_reply_to_user_id",
            "public_metrics",
        )
    }
    fake.fail(
        Response(
            200,
            {
                "data": [{**item, "id": post["id"], "text": post["text"]}],
                "includes": None,
                "meta": None,
                "errors": None,
            },
        )
    )

    page = source.fetch({})

    [m] = page.mentions
    assert m.url == f"https://x.com/i/web/status/{post['id']}"
    # created_at falls back to the time inside the snowflake id.
    assert m.created_at == _iso(post["created_at"])
    assert m.author_handle == "" and m.author_followers is None and m.language is None
    assert m.conversation_id is None and m.in_reply_to_id is None
    assert page.cursor["mentions"]["since_id"] == post["id"]


def test_null_user_metrics_from_expansion(fake: FakeX, users: Users) -> None:
    post = fake.post(users.alice, "@acme metrics are null")
    source = make_source(fake, search=False, user_id=users.acme.id)
    tweet = {k: v for k, v in post.items() if k in ("id", "text", "author_id", "created_at")}
    fake.fail(
        Response(
            200,
            {
                "data": [tweet],
                "includes": {
                    "users": [
                        {"id": users.alice.id, "username": "alice", "name": None, "public_metrics": None}
                    ]
                },
                "meta": {"result_count": 1, "newest_id": post["id"], "oldest_id": post["id"]},
            },
        )
    )

    [m] = source.fetch({}).mentions

    assert m.author_handle == "alice" and m.author_name is None and m.author_followers is None


def test_wrong_token_is_auth_failed(fake: FakeX, users: Users) -> None:
    with pytest.raises(AuthFailed, match="credentials refused") as err:
        make_source(fake, bearer_token="wrong").fetch({})
    assert err.value.state == "auth_failed"


def test_missing_token_is_auth_failed_without_a_request(fake: FakeX) -> None:
    with pytest.raises(AuthFailed, match="bearer_token"):
        make_source(fake, bearer_token=None).fetch({})
    assert fake.requests == []


@pytest.mark.parametrize("problem", ["suspended", "unknown"])
def test_suspended_or_unknown_brand_account(fake: FakeX, users: Users, problem: str) -> None:
    if problem == "suspended":
        users.acme.suspended = True
        source = make_source(fake, user_id=users.acme.id, search=False)
    else:
        source = make_source(fake, username="nobody_here", search=False)
    with pytest.raises(AuthFailed, match=problem if problem == "suspended" else "Could not find user"):
        source.fetch({})


def test_partial_errors_next_to_data_are_not_fatal(fake: FakeX, users: Users) -> None:
    post = fake.post(users.alice, "@acme partial")
    source = make_source(fake, search=False, user_id=users.acme.id)
    tweet = {k: v for k, v in post.items() if k in ("id", "text", "author_id", "created_at")}
    fake.fail(
        Response(
            200,
            {
                "data": [tweet],
                "errors": [
                    {
                        "title": "Not Found Error",
                        "detail": "gone",
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                ],
                "meta": {"result_count": 1},
            },
        )
    )
    assert len(source.fetch({}).mentions) == 1


def test_bad_request_and_wrong_host_are_malformed(fake: FakeX, users: Users) -> None:
    with pytest.raises(MalformedResponse, match="request rejected"):
        make_source(fake, mentions=False, query_extra="is:bogus").fetch({})
    with pytest.raises(MalformedResponse, match="is api_base"):
        make_source(fake, api_base=fake.url + "/wrong", user_id=users.acme.id).fetch({})


def test_connection_refused_is_source_unavailable() -> None:
    with FakeX() as gone:
        url = gone.url
    settings = XSettings(api_base=url, bearer_token="t", user_id="1", timeout=1)
    with pytest.raises(SourceUnavailable):
        XSource("x", settings, BRAND).fetch({})


# -- filtering and configuration -------------------------------------------------------


def test_muted_authors_and_exclusions_in_the_mentions_stream(fake: FakeX, users: Users) -> None:
    spammer = fake.add_user("spammer")
    fake.post(spammer, "@acme buy followers")
    fake.post(users.bob, "@acme careers page is broken")
    kept = fake.post(users.bob, "@acme checkout is broken")
    page = make_source(fake, search=False).fetch({})

    assert [m.external_id for m in page.mentions] == [kept["id"]]
    assert page.skipped == Counter({"muted_author": 1, "excluded_term": 1})


def test_same_post_in_both_streams_is_kept_once(fake: FakeX, users: Users) -> None:
    both = fake.post(users.alice, "@acme Acme Cloud is down")
    store = Store()
    # A hand-written query that does not leave out what the mentions stream reads.
    pages = poll(make_source(fake, query="Acme"), store)

    assert [len(p.mentions) for p in pages] == [1, 0]
    assert pages[1].skipped == Counter({"already_seen": 1})
    assert store.mentions[both["id"]].addressed_to_brand


def test_registry_and_settings() -> None:
    assert source_class("x") is XSource
    with pytest.raises(ValueError, match="numeric id"):
        XSettings(user_id="@acme")
    with pytest.raises(ValueError, match="max_query_length"):
        XSource("x", XSettings(bearer_token="t", max_query_length=20), BRAND)
    custom = XSource("x", XSettings(bearer_token="t", query="acme lang:en"), BRAND)
    assert custom.query == "acme lang:en"
    assert XSource("x", XSettings(bearer_token="t"), BRAND).api_base == "https://api.twitter.com"


def test_bearer_token_file(tmp_path: Any) -> None:
    path = tmp_path / "x-token"
    path.write_text("secret-from-file\n")
    settings = XSettings(bearer_token_file=str(path))
    assert (
        settings.bearer_token is not None and settings.bearer_token.get_secret_value() == "secret-from-file"
    )
    assert "secret-from-file" not in repr(settings)


# -- the fake itself speaks like X --------------------------------------------------------


def test_fake_answers_with_the_shapes_x_uses(fake: FakeX, users: Users) -> None:
    import requests

    auth = {"Authorization": f"Bearer {fake.bearer_token}"}
    empty = requests.get(f"{fake.url}/2/users/{users.acme.id}/mentions", headers=auth, timeout=5)
    assert empty.json() == {"meta": {"result_count": 0}}
    assert empty.headers["date"].endswith(" UTC")
    assert int(empty.headers["x-rate-limit-reset"]) > time.time()
    assert empty.headers["x-rate-limit-remaining"] == str(fake.rate_limit - 1)

    fake.post(users.alice, "@acme hi")
    default = requests.get(f"{fake.url}/2/users/{users.acme.id}/mentions", headers=auth, timeout=5).json()
    assert set(default["data"][0]) == {"id", "text", "edit_history_tweet_ids"}  # default fields only
    assert set(default["meta"]) == {"newest_id", "oldest_id", "result_count"}  # no next_token on a last page

    denied = requests.get(f"{fake.url}/2/tweets/search/recent?query=acme", timeout=5)
    assert denied.status_code == 401 and denied.json()["type"] == "about:blank"
    assert "x-rate-limit-limit" not in denied.headers

    bad = requests.get(f"{fake.url}/2/tweets/search/recent?query=acme&max_results=3", headers=auth, timeout=5)
    assert bad.status_code == 400 and bad.json()["title"] == "Invalid Request"
    assert bad.json()["errors"][0]["parameters"] == {"max_results": ["3"]}

    html = requests.get(f"{fake.url}/2/tweets/count/all", headers=auth, timeout=5)
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")

    me = requests.get(f"{fake.url}/2/users/me", headers=auth, timeout=5)
    assert me.status_code == 403  # app-only tokens cannot ask who they are

    users.bob.suspended = True
    gone = requests.get(f"{fake.url}/2/users/{users.bob.id}/mentions", headers=auth, timeout=5)
    assert gone.status_code == 200 and "data" not in gone.json()
    assert gone.json()["errors"][0]["title"] == "Forbidden"


# -- through the real config loader, scheduler and pipeline ----------------------------------


def test_end_to_end_with_scheduler_and_database(fake: FakeX, users: Users, sqlite_url: str) -> None:
    from sqlalchemy import func, select

    from monitor.config import parse_config
    from monitor.daemon import build_sources
    from monitor.pipeline import Pipeline
    from monitor.scheduler import SourceRunner
    from monitor.store import models as m
    from monitor.store.db import make_engine, migrate

    config = parse_config(
        {
            "brand": {"names": ["Acme"], "handles": {"x": ["acme"]}},
            "sources": {
                "x": {
                    "api_base": fake.url,
                    "bearer_token": fake.bearer_token,
                    "max_results": 10,
                    "max_pages_per_poll": 2,
                    "initial_pages": 5,
                }
            },
        }
    )
    engine = make_engine(sqlite_url)
    migrate(engine)
    posts = [fake.post(users.bob, f"@acme order {i} never arrived") for i in range(25)]
    retweet = fake.post(users.carol, "RT", retweet_of=posts[0])  # newest, and noise

    def runner() -> SourceRunner:  # a fresh process each time: new source, cursor from the database
        source = build_sources(config)["x"]
        return SourceRunner("x", source, Pipeline(engine, config, alerts_enabled=False), engine)

    first = runner().poll()  # two pages, then the page cap stops the poll mid-run
    assert first.pages == 2 and first.state == "ok"
    fake.fail(FakeX.server_error(503))
    assert runner().poll().state == "degraded"
    last = runner().poll()  # the rest of the mentions run, then the search stream
    assert (last.pages, last.state) == (2, "ok")
    assert requests_to(fake, "/mentions")[-1].arg("pagination_token")  # resumed where it stopped

    with engine.connect() as conn:
        stored = conn.execute(select(m.Mention.external_id).where(m.Mention.platform == "x")).scalars().all()
        row = conn.execute(select(m.SourceCursor).where(m.SourceCursor.source == "x")).one()
        gaps = conn.execute(select(func.count()).select_from(m.CoverageGap)).scalar()
    assert sorted(stored) == sorted(p["id"] for p in posts)
    assert row.state == "ok" and row.skipped.get("repost") == 1
    assert row.cursor["mentions"]["since_id"] == retweet["id"]
    assert set(fake.served_counts().values()) == {1}
    assert gaps == 1  # the 503 outage, closed again
    engine.dispose()
