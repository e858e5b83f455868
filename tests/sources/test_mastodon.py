"""The Mastodon source against a fake instance on 127.0.0.1: paging, noise, errors and restarts."""

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
from monitor.sources.mastodon import MastodonSettings, MastodonSource
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Response

BRAND = BrandSettings(
    names=["Acme"],
    handles={"mastodon": ["acme"]},
    exclusions=["giveaway"],
    muted_authors={"mastodon": ["spammer@spam.example"]},
)


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


def make_source(fake: FakeMastodon, brand: BrandSettings = BRAND, **settings: Any) -> MastodonSource:
    values: dict[str, Any] = {"api_base": fake.url, "access_token": fake.token, "timeout": 2.0, **settings}
    return MastodonSource("mastodon-test", MastodonSettings(**values), brand)


def poll(
    source: MastodonSource, cursor: dict[str, Any], max_pages: int = 10
) -> tuple[list[Mention], dict, Counter]:
    """What the scheduler does in one poll: fetch while ``more``, keep the last cursor."""
    mentions: list[Mention] = []
    skipped: Counter[str] = Counter()
    for _ in range(max_pages):
        page = source.fetch(cursor)
        mentions += page.mentions
        skipped += page.skipped
        cursor = page.cursor
        if not page.more:
            break
    return mentions, cursor, skipped


def at(minutes_ago: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes_ago)


def test_registry_finds_the_source() -> None:
    assert source_class("mastodon") is MastodonSource


def test_first_poll_reads_mentions_as_plain_text(fake: FakeMastodon) -> None:
    reply_target = fake.add_status("original", author="acme")
    status = fake.add_mention(
        "is down <again> & again\n\nsecond paragraph",
        author="bob@other.example",
        followers=42,
        display_name="Bob",
        in_reply_to=reply_target,
        language="de",
    )
    source = make_source(fake)
    mentions, cursor, _ = poll(source, {})
    assert len(mentions) == 1
    m = mentions[0]
    assert m.platform == "mastodon"
    assert m.external_id == status["id"]
    assert m.text == "@acme is down <again> & again\n\nsecond paragraph"
    assert m.url == status["url"]
    assert m.author_handle == "bob@other.example"
    assert m.author_name == "Bob"
    assert m.author_followers == 42
    assert m.language == "de"
    assert m.in_reply_to_id == reply_target["id"]
    assert m.addressed_to_brand is True
    assert m.created_at.tzinfo is not None
    assert abs((m.created_at - datetime.fromisoformat(status["created_at"])).total_seconds()) < 0.001
    # The request asked for mentions only, with the bearer token.
    req = fake.requests[-1]
    assert req.path == "/api/v1/notifications"
    assert req.query["types[]"] == ["mention"]
    assert cursor["notifications"]["hw"] is not None


def test_incremental_poll_asks_with_min_id_and_returns_only_new(fake: FakeMastodon) -> None:
    fake.add_mention("first")
    source = make_source(fake)
    first, cursor, _ = poll(source, {})
    newer = fake.add_mention("second")
    again, cursor2, _ = poll(source, cursor)
    assert [m.external_id for m in again] == [newer["id"]]
    assert fake.requests[-1].arg("min_id") == cursor["notifications"]["hw"]
    nothing, _, _ = poll(source, cursor2)
    assert nothing == []
    assert first[0].external_id != newer["id"]


def test_backlog_is_paged_oldest_first_following_link_prev(fake: FakeMastodon) -> None:
    fake.add_mention("seed")
    source = make_source(fake, page_size=3)
    _, cursor, _ = poll(source, {})
    backlog = [fake.add_mention(f"backlog {i}") for i in range(8)]
    got, cursor, _ = poll(source, cursor)
    assert sorted(m.external_id for m in got) == sorted(s["id"] for s in backlog)
    assert len(got) == len({m.external_id for m in got})
    asked = [r.arg("min_id") for r in fake.requests if r.path == "/api/v1/notifications"][1:]
    # Each page starts where the previous page's Link rel="prev" pointed.
    # Notification ids: the seed is 1, the backlog 2..9; pages of 3 start above 1, 4 and 7.
    assert asked == ["1", "4", "7"]


def test_restart_mid_pagination_resumes_without_loss_or_duplicates(fake: FakeMastodon) -> None:
    fake.add_mention("seed")
    _, cursor, _ = poll(make_source(fake), {})
    backlog = [fake.add_mention(f"backlog {i}") for i in range(7)]
    first_run = make_source(fake, page_size=3)
    got, cursor, _ = poll(first_run, cursor, max_pages=1)  # the process dies after one page
    assert len(got) == 3 and cursor["todo"] == ["notifications"]
    first_run.close()
    second_run = make_source(fake, page_size=3)  # a fresh process with the persisted cursor
    rest, _, _ = poll(second_run, cursor)
    ids = [m.external_id for m in got + rest]
    assert sorted(ids) == sorted(s["id"] for s in backlog)
    assert len(ids) == len(set(ids))


def test_zero_results_is_an_empty_page_and_keeps_the_cursor(fake: FakeMastodon) -> None:
    source = make_source(fake)
    page = source.fetch({})
    assert page.mentions == [] and page.more is False and page.items_read == 0
    fake.add_mention("later")
    _, cursor, _ = poll(source, page.cursor)
    quiet = source.fetch(cursor)
    assert quiet.mentions == [] and quiet.cursor["notifications"]["hw"] == cursor["notifications"]["hw"]


def test_noise_is_filtered_and_counted(fake: FakeMastodon) -> None:
    kept = fake.add_mention("love it", author="carol")
    fake.add_mention("our reply", author="acme")  # the brand's own post
    fake.add_mention("win a giveaway", author="dave")
    fake.add_mention("buy followers", author="spammer@spam.example")
    fake.add_notification("favourite", status=kept)  # servers before 3.5 ignore types[]
    fake.add_notification("mention", null_status=True)
    source = make_source(fake)
    mentions, _, skipped = poll(source, {})
    assert [m.external_id for m in mentions] == [kept["id"]]
    assert skipped["own_post"] == 1
    assert skipped["excluded_term"] == 1
    assert skipped["muted_author"] == 1
    assert skipped["deleted"] == 1


def test_hashtag_reblogs_are_noise_and_late_posts_inside_the_overlap_are_caught(fake: FakeMastodon) -> None:
    first = fake.add_status("loving #acme", tags=["acme"], created_at=at(5))
    source = make_source(fake, notifications=False, hashtags=["#acme"])
    got, cursor, _ = poll(source, {})
    assert [m.external_id for m in got] == [first["id"]]
    assert got[0].addressed_to_brand is False
    # A remote post federated late gets a snowflake from its own (older) time,
    # below the high-water mark; the overlap window still finds it, once.
    late = fake.add_status("late #acme", author="eve@slow.example", tags=["acme"], created_at=at(8))
    fresh = fake.add_status("new #acme", tags=["acme"], created_at=at(1))
    got2, cursor, _ = poll(source, cursor)
    assert sorted(m.external_id for m in got2) == sorted([late["id"], fresh["id"]])
    again, _, skipped = poll(source, cursor)
    assert again == [] and skipped["already_seen"] == 3
    assert fake.requests[-1].path == "/api/v1/timelines/tag/acme"


def test_hashtag_backlog_larger_than_a_page_inside_the_overlap_is_read_whole(fake: FakeMastodon) -> None:
    fake.add_status("#acme start", tags=["acme"], created_at=at(9))
    source = make_source(fake, notifications=False, hashtags=["acme"], page_size=2)
    _, cursor, _ = poll(source, {})
    burst = [fake.add_status(f"#acme {i}", tags=["acme"], created_at=at(8 - i)) for i in range(5)]
    got, cursor, skipped = poll(source, cursor)
    ids = [m.external_id for m in got]
    assert sorted(ids) == sorted(s["id"] for s in burst) and len(ids) == len(set(ids))
    assert skipped["already_seen"] == 1  # the first post, re-read at the bottom of the window
    assert cursor["tag:acme"]["after"] is None and cursor["todo"] == []


def test_a_reblog_served_in_a_timeline_counts_as_repost(fake: FakeMastodon) -> None:
    original = fake.add_status("good #acme", tags=["acme"], created_at=at(3))
    boost = fake.add_status("", author="frank", reblog_of=original, created_at=at(2))
    # Tag timelines leave boosts out today; if an instance sends one, it is noise, not a mention.
    fake.fail(Response(200, [boost, original]), path="/api/v1/timelines/tag/acme")
    mentions, _, skipped = poll(make_source(fake, notifications=False, hashtags=["acme"]), {})
    assert [m.external_id for m in mentions] == [original["id"]]
    assert skipped["repost"] == 1


def test_search_pages_down_to_the_high_water_mark(fake: FakeMastodon) -> None:
    fake.add_status("Acme is fine", created_at=at(30))
    source = make_source(fake, notifications=False, search=True, page_size=2)
    got, cursor, _ = poll(source, {})
    assert len(got) == 1
    burst = [fake.add_status(f"Acme burst {i}", created_at=at(10 - i)) for i in range(5)]
    fake.add_status("acmeish typo not a match", created_at=at(1))
    got2, cursor, skipped = poll(source, cursor)
    assert sorted(m.external_id for m in got2) == sorted(s["id"] for s in burst)
    # The first post is inside the overlap window: read again, handed out once.
    assert skipped["already_seen"] == 1
    assert skipped["no_brand_term"] == 1  # full-text search also returns near misses
    searches = [r for r in fake.requests if r.path == "/api/v2/search"]
    assert searches[-1].arg("max_id") is not None and searches[-1].arg("min_id") is not None
    again, _, _ = poll(source, cursor)
    assert again == []


def test_429_raises_rate_limited_with_the_iso_reset(fake: FakeMastodon) -> None:
    fake.rate_limit = 1
    source = make_source(fake)
    source.fetch({})
    with pytest.raises(RateLimited) as err:
        # A new source has not seen remaining=0, so it asks and gets the 429.
        make_source(fake).fetch({})
    reset = err.value.reset_at
    assert reset is not None and reset > datetime.now(UTC) - timedelta(seconds=1)
    assert reset.second % 60 == 0 and reset.minute % 5 == 0


def test_a_numeric_reset_from_another_fediverse_server_is_understood(fake: FakeMastodon) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 120
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    fake.fail(Response(429, {"error": "Too many requests"}, headers))
    with pytest.raises(RateLimited) as err:
        make_source(fake).fetch({})
    assert err.value.reset_at == datetime.fromtimestamp(reset, UTC)


def test_remaining_zero_stops_before_the_next_request(fake: FakeMastodon) -> None:
    fake.rate_limit = 1
    source = make_source(fake)
    source.fetch({})  # answered with X-RateLimit-Remaining: 0
    sent = len(fake.requests)
    with pytest.raises(RateLimited):
        source.fetch({})
    assert len(fake.requests) == sent


def test_5xx_then_recovery_keeps_the_cursor_usable(fake: FakeMastodon) -> None:
    fake.add_mention("one")
    source = make_source(fake)
    _, cursor, _ = poll(source, {})
    new = fake.add_mention("two")
    fake.fail(
        Response(503, "<html>Service Unavailable</html>", {"Content-Type": "text/html", "Retry-After": "7"})
    )
    with pytest.raises(SourceUnavailable) as err:
        source.fetch(cursor)
    assert err.value.retry_after == 7
    got, _, _ = poll(source, cursor)  # the scheduler retries with the cursor it kept
    assert [m.external_id for m in got] == [new["id"]]


def test_timeout_is_source_unavailable(fake: FakeMastodon) -> None:
    source = make_source(fake, timeout=0.3)
    fake.fail(Response(200, [], delay=0.8))
    with pytest.raises(SourceUnavailable, match="timed out"):
        source.fetch({})


def test_malformed_body_raises_and_a_malformed_item_is_skipped(fake: FakeMastodon) -> None:
    source = make_source(fake)
    fake.fail(Response(200, "<html>maintenance</html>", {"Content-Type": "text/html"}))
    with pytest.raises(MalformedResponse):
        source.fetch({})
    fake.fail(Response(200, {"error": "unexpected"}))
    with pytest.raises(MalformedResponse):
        source.fetch({})
    good = fake.add_mention("fine")
    broken = fake.add_mention("broken")
    broken["account"] = None  # a status without an account cannot be read
    mentions, _, skipped = poll(source, {})
    assert [m.external_id for m in mentions] == [good["id"]]
    assert skipped["malformed"] == 1


def test_html_is_reduced_to_text_without_running_or_leaking_markup(fake: FakeMastodon) -> None:
    status = fake.add_mention("x")
    status["content"] = (
        '<p>Hi <a href="https://e.example/">@<span>acme</span></a> &amp; co</p>'
        "<script>alert(1)</script><p>line<br />two</p>"
    )
    status["spoiler_text"] = "outage"
    mentions, _, _ = poll(make_source(fake), {})
    assert mentions[0].text == "outage\n\nHi @acme & co\n\nline\ntwo"


def test_own_account_matches_in_either_acct_form(fake: FakeMastodon) -> None:
    brand = BrandSettings(names=["Acme"], handles={"mastodon": ["acme@127.0.0.1"]})
    fake.add_mention("from the brand itself", author="acme")
    kept = fake.add_mention("from someone", author="zed@far.example")
    mentions, _, skipped = poll(make_source(fake, brand=brand), {})
    assert [m.external_id for m in mentions] == [kept["id"]] and skipped["own_post"] == 1
    assert mentions[0].addressed_to_brand is True


def test_null_fields_are_accepted(fake: FakeMastodon) -> None:
    status = fake.add_mention("no url", language=None)
    status["url"] = None
    status["account"]["followers_count"] = None
    status["account"]["display_name"] = ""
    mentions, _, _ = poll(make_source(fake), {})
    m = mentions[0]
    assert m.url == status["uri"]
    assert m.language is None and m.author_followers is None and m.author_name is None
    assert m.in_reply_to_id is None


def test_bad_token_is_auth_failed(fake: FakeMastodon) -> None:
    source = make_source(fake, access_token="wrong")
    with pytest.raises(AuthFailed, match="access token is invalid"):
        source.fetch({})


def test_request_budget_is_enforced(fake: FakeMastodon) -> None:
    source = make_source(fake, request_budget_per_hour=2)
    source.fetch({})
    source.fetch({})
    with pytest.raises(BudgetExhausted):
        source.fetch({})
    assert len(fake.requests) == 2


def test_settings_require_an_instance_url_and_real_hashtags() -> None:
    with pytest.raises(ValueError, match="instance URL"):
        MastodonSettings(api_base="mastodon.social", access_token="x")
    with pytest.raises(ValueError, match="not a hashtag"):
        MastodonSettings(api_base="https://m.example", access_token="x", hashtags=["acme/../x"])
    ok = MastodonSettings(api_base="https://m.example/", access_token="x", hashtags=["#Acme", "café_2"])
    assert ok.hashtags == ["Acme", "café_2"] and ok.api_base == "https://m.example"


def test_state_of_a_removed_stream_is_dropped(fake: FakeMastodon) -> None:
    fake.add_status("#old thing", tags=["old"])
    _, cursor, _ = poll(make_source(fake, hashtags=["old"]), {})
    assert "tag:old" in cursor
    _, cursor, _ = poll(make_source(fake), cursor)
    assert set(cursor) == {"notifications", "todo"}


def test_a_burst_after_an_empty_first_poll_is_read_whole(fake: FakeMastodon) -> None:
    # Found by bench/chaos.py: the first poll saw no notifications, so nothing marked the stream as
    # started; the next poll counted as "first" again and kept only the newest page of a burst.
    source = make_source(fake, page_size=20)
    mentions, cursor, _ = poll(source, {})
    assert mentions == []
    for i in range(50):
        fake.add_mention(f"Acme burst {i}", author=f"burst{i}")
    mentions, cursor, _ = poll(source, cursor)
    assert sorted(mm.text for mm in mentions) == sorted(f"@acme Acme burst {i}" for i in range(50))
