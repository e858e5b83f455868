"""The Bluesky source against a fake PDS on 127.0.0.1: sessions, sweeps, noise, errors and restarts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.brand import BrandSettings
from monitor.mention import Mention
from monitor.sources import source_class
from monitor.sources.base import (
    AuthFailed,
    BudgetExhausted,
    MalformedResponse,
    RateLimited,
    SourceUnavailable,
)
from monitor.sources.bluesky import BlueskySettings, BlueskySource
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.server import Response

BRAND = BrandSettings(
    names=["Acme"],
    handles={"bluesky": ["acme.bsky.social"]},
    exclusions=["giveaway"],
    muted_authors={"bluesky": ["spam.bsky.social"]},
)
LIST = "app.bsky.notification.listNotifications"
SEARCH = "app.bsky.feed.searchPosts"
LOGIN = "com.atproto.server.createSession"
REFRESH = "com.atproto.server.refreshSession"


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as server:
        yield server


def make_source(fake: FakeBluesky, brand: BrandSettings = BRAND, **settings: Any) -> BlueskySource:
    values: dict[str, Any] = {
        "api_base": fake.url,
        "handle": fake.handle,
        "app_password": fake.password,
        "search": False,
        "timeout": 2.0,
        **settings,
    }
    return BlueskySource("bluesky-test", BlueskySettings(**values), brand)


def poll(
    source: BlueskySource, cursor: dict[str, Any], max_pages: int = 20
) -> tuple[list[Mention], dict[str, Any], Counter[str], list]:
    """What the scheduler does in one poll: fetch while ``more``, keep the last cursor."""
    mentions: list[Mention] = []
    skipped: Counter[str] = Counter()
    gaps: list = []
    for _ in range(max_pages):
        page = source.fetch(cursor)
        mentions += page.mentions
        skipped += page.skipped
        gaps += page.gaps
        cursor = page.cursor
        if not page.more:
            break
    return mentions, cursor, skipped, gaps


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


def test_registry_finds_the_source() -> None:
    assert source_class("bluesky") is BlueskySource
    assert BlueskySource.default_api_base == "https://bsky.social"


def test_first_poll_keeps_mentions_replies_quotes_and_counts_the_rest(fake: FakeBluesky) -> None:
    brand_post = fake.add_post("our launch", author=fake.handle, indexed_at=ago(60))
    mention = fake.add_mention("🎉 the app crashes", langs=["de", "en"], indexed_at=ago(50))
    reply = fake.add_reply(
        "same here", brand_post, author="bob.bsky.social", display_name=None, indexed_at=ago(40)
    )
    quote = fake.add_quote("look at this", brand_post, author="carol.bsky.social", indexed_at=ago(30))
    fake.add_interaction("like", brand_post)
    fake.add_interaction("repost", brand_post)
    fake.add_interaction("follow", None)
    source = make_source(fake)
    mentions, cursor, skipped, _ = poll(source, {})
    by_uri = {m.external_id: m for m in mentions}
    assert set(by_uri) == {mention["uri"], reply["uri"], quote["uri"]}
    m = by_uri[mention["uri"]]
    rkey = mention["uri"].rsplit("/", 1)[-1]
    assert m.url == f"https://bsky.app/profile/alice.bsky.social/post/{rkey}"
    assert m.text == f"@{fake.handle} 🎉 the app crashes"
    assert (
        m.language == "de" and m.author_name == "Alice" and m.author_id == fake.did_for("alice.bsky.social")
    )
    assert m.author_followers is None and m.addressed_to_brand is True
    assert m.conversation_id == mention["uri"] and m.in_reply_to_id is None
    r = by_uri[reply["uri"]]
    assert r.in_reply_to_id == brand_post["uri"] and r.conversation_id == brand_post["uri"]
    assert r.author_name is None and r.language is None
    assert skipped == Counter({"notification:like": 1, "repost": 1, "notification:follow": 1})
    assert fake.calls(LOGIN) == 1
    assert cursor["notifications"]["hw"] is not None and cursor["notifications"]["next"] is None
    # The session tokens never reach the persisted cursor.
    assert "Jwt" not in repr(cursor) and "eyJ" not in repr(cursor)


def test_incremental_poll_reuses_the_session_and_returns_only_new(fake: FakeBluesky) -> None:
    fake.add_mention("one", indexed_at=ago(30))
    source = make_source(fake)
    first, cursor, _, _ = poll(source, {})
    new = fake.add_mention("two")
    second, cursor, skipped, _ = poll(source, cursor)
    third, _, _, _ = poll(source, cursor)
    assert [m.external_id for m in second] == [new["uri"]]
    assert skipped["already_seen"] == 1  # the first one is inside the overlap window
    assert third == [] and len(first) == 1
    assert fake.calls(LOGIN) == 1 and fake.calls(REFRESH) == 0


def test_backlog_is_swept_across_pages(fake: FakeBluesky) -> None:
    fake.add_mention("seed", indexed_at=ago(3600))
    source = make_source(fake, page_size=3)
    _, cursor, _, _ = poll(source, {})
    backlog = [fake.add_mention(f"backlog {i}", indexed_at=ago(100 - i)) for i in range(8)]
    got, cursor, _, gaps = poll(source, cursor)
    ids = [m.external_id for m in got]
    assert sorted(ids) == sorted(p["uri"] for p in backlog) and len(ids) == len(set(ids))
    cursors = [r.arg("cursor") for r in fake.requests if r.path == f"/xrpc/{LIST}"][1:]
    # The first page is the newest; each following one starts at the previous page's last indexedAt.
    assert cursors[0] is None and all(c is not None for c in cursors[1:]) and len(cursors) == 4
    assert gaps == [] and cursor["notifications"]["next"] is None


def test_restart_mid_sweep_resumes_without_loss_or_duplicates(fake: FakeBluesky) -> None:
    fake.add_mention("seed", indexed_at=ago(3600))
    _, cursor, _, _ = poll(make_source(fake), {})
    backlog = [fake.add_mention(f"backlog {i}", indexed_at=ago(100 - i)) for i in range(7)]
    first_run = make_source(fake, page_size=3)
    got, cursor, _, _ = poll(first_run, cursor, max_pages=1)  # the process stops after one page
    assert len(got) == 3 and cursor["notifications"]["next"] is not None
    first_run.close()
    arriving = fake.add_mention("arrived during the restart")
    second_run = make_source(fake, page_size=3)
    rest, cursor, _, _ = poll(second_run, cursor)
    later, _, _, _ = poll(second_run, cursor)
    ids = [m.external_id for m in got + rest + later]
    assert sorted(ids) == sorted(p["uri"] for p in [*backlog, arriving])
    assert len(ids) == len(set(ids))


def test_late_indexed_post_inside_the_overlap_is_caught_once(fake: FakeBluesky) -> None:
    fake.add_mention("now", indexed_at=ago(5))
    source = make_source(fake)
    _, cursor, _, _ = poll(source, {})
    late = fake.add_mention("indexed out of order", indexed_at=ago(120))
    got, cursor, _, _ = poll(source, cursor)
    assert [m.external_id for m in got] == [late["uri"]]
    assert poll(source, cursor)[0] == []


def test_zero_results(fake: FakeBluesky) -> None:
    source = make_source(fake)
    page = source.fetch({})
    assert page.mentions == [] and page.more is False and page.items_read == 0
    assert page.requests == 2  # the login and the query
    fake.add_mention("first")
    _, cursor, _, _ = poll(source, page.cursor)
    quiet = source.fetch(cursor)
    assert quiet.mentions == [] and quiet.requests == 1


def test_noise_own_muted_excluded(fake: FakeBluesky) -> None:
    kept = fake.add_mention("works well")
    fake.add_mention("self note", author=fake.handle)
    fake.add_mention("join the giveaway", author="dave.bsky.social")
    fake.add_mention("cheap followers", author="spam.bsky.social")
    mentions, _, skipped, _ = poll(make_source(fake), {})
    assert [m.external_id for m in mentions] == [kept["uri"]]
    assert skipped == Counter({"own_post": 1, "excluded_term": 1, "muted_author": 1})


@pytest.mark.parametrize("status", [400, 401])
def test_expired_access_token_is_refreshed_not_relogged(fake: FakeBluesky, status: int) -> None:
    fake.expired_status = status
    fake.add_mention("one", indexed_at=ago(30))
    source = make_source(fake)
    _, cursor, _, _ = poll(source, {})
    fake.expire_access_tokens()
    new = fake.add_mention("two")
    got, _, _, _ = poll(source, cursor)
    assert [m.external_id for m in got] == [new["uri"]]
    assert fake.calls(LOGIN) == 1 and fake.calls(REFRESH) == 1


def test_expired_refresh_token_falls_back_to_a_new_session(fake: FakeBluesky) -> None:
    source = make_source(fake)
    _, cursor, _, _ = poll(source, {})
    fake.expire_access_tokens()
    fake.expire_refresh_tokens()
    new = fake.add_mention("after both expired")
    page = source.fetch(cursor)
    assert [m.external_id for m in page.mentions] == [new["uri"]]
    assert fake.calls(LOGIN) == 2 and fake.calls(REFRESH) == 1
    assert page.requests == 4  # the refused query, the refused refresh, the login, the query


def test_wrong_app_password_is_auth_failed(fake: FakeBluesky) -> None:
    source = make_source(fake, app_password="wrong-pass-word-here")
    with pytest.raises(AuthFailed, match="Invalid identifier or password"):
        source.fetch({})


def test_login_budget_429_carries_the_epoch_reset() -> None:
    with FakeBluesky(login_limit=1) as fake:
        make_source(fake).fetch({})
        with pytest.raises(RateLimited) as err:
            make_source(fake).fetch({})  # a second process logging in again
        reset = err.value.reset_at
        assert reset is not None and reset > datetime.now(UTC) + timedelta(hours=23)
        login = [r for r in fake.requests if r.path == f"/xrpc/{LOGIN}"]
        assert len(login) == 2


def test_429_with_reset_and_remaining_zero_stops_early() -> None:
    with FakeBluesky(rate_limit=1) as fake:
        source = make_source(fake)
        source.fetch({})  # answered with RateLimit-Remaining: 0
        sent = len(fake.requests)
        with pytest.raises(RateLimited) as early:
            source.fetch({})
        assert len(fake.requests) == sent  # not even asked
        other = make_source(fake)
        with pytest.raises(RateLimited) as refused:
            other.fetch({})  # a source that has not seen the headers gets the 429
        for err in (early, refused):
            reset = err.value.reset_at
            assert reset is not None
            assert datetime.now(UTC) < reset <= datetime.now(UTC) + timedelta(seconds=301)


def test_5xx_then_recovery(fake: FakeBluesky) -> None:
    fake.add_mention("one", indexed_at=ago(30))
    source = make_source(fake)
    _, cursor, _, _ = poll(source, {})
    new = fake.add_mention("two")
    fake.fail(
        Response(502, {"error": "UpstreamFailure", "message": "Upstream Failure"}), path=f"/xrpc/{LIST}"
    )
    with pytest.raises(SourceUnavailable, match="502"):
        source.fetch(cursor)
    got, _, _, _ = poll(source, cursor)
    assert [m.external_id for m in got] == [new["uri"]]


def test_timeout(fake: FakeBluesky) -> None:
    source = make_source(fake, timeout=0.3)
    fake.fail(Response(200, {"notifications": []}, delay=0.8), path=f"/xrpc/{LIST}")
    with pytest.raises(SourceUnavailable, match="timed out"):
        source.fetch({})


def test_malformed_body_and_items(fake: FakeBluesky) -> None:
    source = make_source(fake)
    fake.fail(Response(200, "<html>gateway</html>", {"Content-Type": "text/html"}), path=f"/xrpc/{LIST}")
    with pytest.raises(MalformedResponse):
        source.fetch({})
    fake.fail(Response(200, {"feed": []}), path=f"/xrpc/{LIST}")
    with pytest.raises(MalformedResponse, match="notifications"):
        source.fetch({})
    good = fake.add_mention("readable")
    fake.add_mention("no author")["author"] = None
    fake.notifications[-1]["author"] = None
    fake.notifications.append(
        {"uri": "at://x/app.bsky.feed.post/1", "reason": "mention", "indexedAt": "soon"}
    )
    mentions, _, skipped, _ = poll(source, {})
    assert [m.external_id for m in mentions] == [good["uri"]]
    assert skipped["malformed"] == 2


def test_null_and_odd_fields(fake: FakeBluesky) -> None:
    post = fake.add_mention("odd", display_name=None)
    note = fake.notifications[-1]
    note["record"]["createdAt"] = "not a date"  # createdAt is written by clients
    note["author"]["handle"] = "handle.invalid"
    mentions, _, _, _ = poll(make_source(fake, brand=BrandSettings(names=["Acme"])), {})
    m = mentions[0]
    assert m.created_at == datetime.fromisoformat(post["indexedAt"])
    assert m.url.startswith(f"https://bsky.app/profile/{note['author']['did']}/post/")
    assert m.author_name is None and m.language is None


def test_search_sweeps_terms_filters_near_misses_and_marks_addressed(fake: FakeBluesky) -> None:
    fake.add_post("Acme old news", indexed_at=ago(3600))
    source = make_source(fake, notifications=False, search=True, page_size=2)
    first, cursor, _, _ = poll(source, {})
    assert len(first) == 1
    emoji = fake.add_post(
        "💥💥 @acme.bsky.social Acme broke",
        author="erin.bsky.social",
        mention=["acme.bsky.social"],
        indexed_at=ago(50),
    )
    plain = [fake.add_post(f"Acme thing {i}", indexed_at=ago(40 - i)) for i in range(3)]
    fake.add_post("acmeish is not us", indexed_at=ago(20))
    fake.add_post("Acme says hi", author=fake.handle, indexed_at=ago(10))
    got, cursor, skipped, gaps = poll(source, cursor)
    assert sorted(m.external_id for m in got) == sorted(p["uri"] for p in [emoji, *plain])
    by_uri = {m.external_id: m for m in got}
    assert by_uri[emoji["uri"]].addressed_to_brand is True  # found via facet byte offsets
    assert not any(by_uri[p["uri"]].addressed_to_brand for p in plain)
    assert skipped["no_brand_term"] == 1 and skipped["own_post"] == 1 and gaps == []
    searches = [r for r in fake.requests if r.path == f"/xrpc/{SEARCH}"]
    assert {r.arg("q") for r in searches} == {"Acme"} and searches[-1].arg("sort") == "latest"
    assert poll(source, cursor)[0] == []


def test_search_offset_shift_during_a_sweep_gives_no_duplicates(fake: FakeBluesky) -> None:
    fake.add_post("Acme seed", indexed_at=ago(3600))
    source = make_source(fake, notifications=False, search=True, page_size=3)
    _, cursor, _, _ = poll(source, {})
    burst = [fake.add_post(f"Acme burst {i}", indexed_at=ago(300 - i)) for i in range(6)]
    got, cursor, _, _ = poll(source, cursor, max_pages=1)
    # Two new posts push everything down by two offsets before the next page.
    newer = [fake.add_post(f"Acme newer {i}", indexed_at=ago(5 - i)) for i in range(2)]
    rest, cursor, skipped, _ = poll(source, cursor)
    more, _, _, _ = poll(source, cursor)
    ids = [m.external_id for m in got + rest + more]
    assert sorted(ids) == sorted(p["uri"] for p in [*burst, *newer])
    assert len(ids) == len(set(ids)) and skipped["already_seen"] >= 2


def test_search_that_stops_paging_records_a_gap(fake: FakeBluesky) -> None:
    seed = fake.add_post("Acme seed", indexed_at=ago(7200))
    fake.search_max_offset = 4
    source = make_source(fake, notifications=False, search=True, page_size=2)
    _, cursor, _, _ = poll(source, {})
    burst = [fake.add_post(f"Acme viral {i}", indexed_at=ago(3000 - i * 10)) for i in range(10)]
    got, cursor, _, gaps = poll(source, cursor)
    assert len(got) == 4 and {m.external_id for m in got} <= {p["uri"] for p in burst}
    assert len(gaps) == 1
    gap = gaps[0]
    # From what the last sweep covered to the oldest post this one could reach (burst 6; 0-5 are lost).
    assert gap.start == datetime.fromisoformat(seed["indexedAt"])
    assert gap.end == datetime.fromisoformat(burst[6]["indexedAt"])
    assert cursor["search:Acme"]["next"] is None  # the sweep is closed; the next poll starts at the top


def test_separate_search_appview_is_called_without_the_session() -> None:
    with FakeBluesky() as pds, FakeBluesky(public_search=True) as appview:
        hit = appview.add_post("Acme on the appview")
        source = make_source(pds, notifications=False, search=True, search_api_base=appview.url)
        got, _, _, _ = poll(source, {})
        assert [m.external_id for m in got] == [hit["uri"]]
        assert pds.requests == [] and "authorization" not in appview.requests[0].headers


def test_request_budget(fake: FakeBluesky) -> None:
    source = make_source(fake, request_budget_per_hour=3)
    source.fetch({})  # login + query
    source.fetch({})
    with pytest.raises(BudgetExhausted):
        source.fetch({})
    assert len(fake.requests) == 3


def test_empty_first_poll_still_sets_the_mark(fake: FakeBluesky) -> None:
    """A brand with no mentions yet: the next poll must page through everything that came in meanwhile."""
    source = make_source(fake, page_size=5)
    mentions, cursor, _, _ = poll(source, {})
    assert mentions == []
    start = datetime.now(UTC)
    for n in range(12):  # more than two pages arrive before the next poll
        fake.add_mention(f"first week question {n}", indexed_at=start + timedelta(seconds=n))
    mentions, cursor, _, _ = poll(source, cursor)
    assert sorted(m.text for m in mentions) == sorted(
        f"@{fake.handle} first week question {n}" for n in range(12)
    )
