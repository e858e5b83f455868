"""Mastodon source: the account's mention notifications, hashtag timelines and status search, via httpx.

Each ``fetch`` makes one request for one *stream* (``notifications``,
``tag:<name>``, ``search:<term>``); the cursor lists the streams left in the
current round, so a restart resumes the round instead of skipping a stream.

Notifications and hashtag timelines are read forwards with ``min_id`` and the
``Link: rel="prev"`` URL, which yields the oldest unseen page first, so a
backlog of any size is paged through and never skipped. Status ids are
snowflakes made from the post's own timestamp (late-federated posts get ids
*below* ones already read), so tag streams re-read an overlap window below the
high-water mark and drop ids already handed out. Search returns newest first
and is read with :mod:`monitor.sources._sweep`.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import Field, SecretStr, field_validator

from monitor.brand import BrandSettings
from monitor.mention import Mention
from monitor.sources import _noise, _sweep
from monitor.sources._noise import NoiseScreen
from monitor.sources._polling import advance_round, round_todo
from monitor.sources._ratelimit import RateLimitGate
from monitor.sources.base import Gap, MalformedResponse, Page, Source, SourceSettings
from monitor.sources.http import json_body, make_client, send
from monitor.sources.text import html_to_text

log = logging.getLogger(__name__)

NOTIFICATIONS = "notifications"
# Server-side maxima: notifications take up to 80 per page, timelines and search 40.
MAX_NOTIFICATIONS_PAGE = 80
MAX_STATUS_PAGE = 40


class MastodonSettings(SourceSettings):
    """``sources.<name>:`` for a Mastodon account (any instance)."""

    api_base: str = Field(description="the instance URL, e.g. https://mastodon.social")
    access_token: SecretStr = Field(
        description="token of an app with read:notifications read:statuses read:search"
    )
    notifications: bool = Field(default=True, description="read the account's mention notifications")
    hashtags: list[str] = Field(default_factory=list, description="hashtag timelines to read, without '#'")
    search: bool = Field(
        default=False, description="full-text search for the brand terms (needs instance search)"
    )
    page_size: int = Field(default=40, ge=1, le=MAX_NOTIFICATIONS_PAGE)
    overlap: float = Field(
        default=600.0, ge=0, le=86400, description="seconds re-read for late-federated posts"
    )

    @field_validator("api_base")
    @classmethod
    def _instance_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"api_base must be the instance URL, e.g. https://{value.strip('/')}")
        return value.rstrip("/")

    @field_validator("hashtags")
    @classmethod
    def _bare_tags(cls, value: list[str]) -> list[str]:
        tags = [tag.strip().lstrip("#") for tag in value if tag.strip().lstrip("#")]
        for tag in tags:
            # Mastodon hashtags are letters, digits and underscores; anything else cannot be a tag.
            if not re.fullmatch(r"\w+", tag):
                raise ValueError(f"{tag!r} is not a hashtag (letters, digits and _ only)")
        return tags


def read_rate_limit(response: httpx.Response) -> tuple[float | None, datetime | None]:
    """``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (ISO-8601 with microseconds).

    Mastodon sends an ISO timestamp; a number is accepted too (epoch seconds, or
    seconds from now when small), because other fediverse servers speak this API.
    """
    remaining: float | None = None
    reset_at: datetime | None = None
    try:
        raw = response.headers.get("x-ratelimit-remaining")
        remaining = float(raw) if raw is not None else None
    except ValueError:
        remaining = None
    raw_reset = (response.headers.get("x-ratelimit-reset") or "").strip()
    if raw_reset:
        try:
            number = float(raw_reset)
        except ValueError:
            number = None
        try:
            if number is None:
                reset_at = datetime.fromisoformat(raw_reset).astimezone(UTC)
            elif number > 1e9:
                reset_at = datetime.fromtimestamp(number, UTC)
            else:
                reset_at = datetime.now(UTC) + timedelta(seconds=number)
        except (ValueError, OverflowError, OSError):
            reset_at = None
    return remaining, reset_at


def _id_int(value: Any) -> int:
    """Mastodon ids are decimal strings; compare them as numbers ("9" < "10")."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"not an id: {value!r}")
    return int(value)


def snowflake_time(status_id: int) -> datetime:
    """The time a status snowflake id encodes (milliseconds in the high bits)."""
    return datetime.fromtimestamp((status_id >> 16) / 1000, UTC)


def _link_min_id(response: httpx.Response) -> str | None:
    """``min_id`` of the ``Link: rel="prev"`` URL: where the next newer page starts."""
    prev = response.links.get("prev")
    if not prev:
        return None
    values = parse_qs(urlsplit(prev.get("url", "")).query).get("min_id")
    return values[0] if values else None


class MastodonSource(Source):
    """Mentions of the brand on one Mastodon account's instance."""

    platform: ClassVar[str] = "mastodon"
    Settings: ClassVar[type[SourceSettings]] = MastodonSettings

    def __init__(
        self,
        name: str,
        settings: MastodonSettings,
        brand: BrandSettings,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(name, settings, brand)
        self.settings: MastodonSettings = settings
        self._client = make_client(self.api_base or settings.api_base, settings.timeout, transport)
        self._client.headers["Authorization"] = f"Bearer {settings.access_token.get_secret_value()}"
        self._gate = RateLimitGate(name, read_rate_limit)
        # Every response (errors too) carries the headers; read them where httpx sees them all.
        self._client.event_hooks["response"] = [self._gate.observe]
        self._screen = NoiseScreen(brand, self.platform)
        self._domain = urlsplit(settings.api_base).hostname or ""
        self._own = brand.own_handles(self.platform)

    # -- streams --------------------------------------------------------
    def streams(self) -> list[str]:
        """The streams one round reads, in order."""
        names = [NOTIFICATIONS] if self.settings.notifications else []
        names += [f"tag:{tag}" for tag in self.settings.hashtags]
        if self.settings.search:
            names += [f"search:{term}" for term in self.brand.terms]
        return names

    def fetch(self, cursor: dict[str, Any]) -> Page:
        streams = self.streams()
        if not streams:
            return Page([], dict(cursor), requests=0)
        todo = round_todo(cursor.get("todo"), streams)
        stream = todo[0]
        if stream == NOTIFICATIONS:
            page, again = self._forward(
                stream, cursor.get(stream), "/api/v1/notifications", MAX_NOTIFICATIONS_PAGE
            )
        elif stream.startswith("tag:"):
            tag = stream.removeprefix("tag:")
            page, again = self._forward(
                stream, cursor.get(stream), f"/api/v1/timelines/tag/{tag}", MAX_STATUS_PAGE
            )
        else:
            page, again = self._search(stream, cursor.get(stream))
        states, rest = advance_round(cursor, todo, streams, stream, page.cursor[stream], again)
        page.cursor = {**states, "todo": rest}
        page.more = bool(rest)
        return page

    def close(self) -> None:
        self._client.close()

    # -- requests -------------------------------------------------------
    def _get(self, path: str, params: list[tuple[str, str]]) -> httpx.Response:
        self._gate.check()
        self.budget.spend(self.name)
        return send(self._client, "GET", path, source=self.name, rate_limit=read_rate_limit, params=params)

    def _forward(self, stream: str, raw: Any, path: str, max_page: int) -> tuple[Page, bool]:
        """One page of a ``min_id``-paged stream; returns the page and whether it has more now."""
        state = raw if isinstance(raw, dict) else {}
        hw = state.get("hw") if isinstance(state.get("hw"), str) else None
        after = state.get("after") if isinstance(state.get("after"), str) else None
        seen = {s for s in state.get("seen") or [] if isinstance(s, str)}
        limit = min(self.settings.page_size, max_page)
        is_tag = stream != NOTIFICATIONS
        # Notification ids are assigned on arrival, so only status snowflakes need the window.
        window = int(self.settings.overlap * 1000) << 16 if is_tag else 0
        params: list[tuple[str, str]] = [("limit", str(limit))]
        if not is_tag:
            params.append(("types[]", "mention"))
        if hw is not None:
            params.append(("min_id", after or str(max(_id_int(hw) - window, 0))))
        response = self._get(path, params)
        body = json_body(response, source=self.name)
        if not isinstance(body, list):
            raise MalformedResponse(
                f"{self.name}: expected a JSON array from {path}, got {type(body).__name__}"
            )
        page = Page([], {}, items_read=len(body))
        ids: list[int] = []
        for item in body:
            try:
                item_id = str(item["id"])
                ids.append(_id_int(item_id))
                if item_id in seen:
                    page.skipped[_noise.SEEN] += 1
                    continue
                mention = (
                    self._from_notification(item, page.skipped)
                    if not is_tag
                    else self._from_status(item, page.skipped, require_term=False, addressed=False)
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self._malformed(page.skipped, path, item, exc)
                continue
            if mention is not None:
                page.mentions.append(mention)
        newest = _link_min_id(response)
        top = max([*ids, *([_id_int(newest)] if newest and newest.isdigit() else [])], default=None)
        new_hw = hw
        if top is not None and (hw is None or top > _id_int(hw)):
            new_hw = str(top)
        if new_hw is None:
            # An empty first poll: whatever arrives from now on is new, not history to skip. Without a
            # mark, the next poll would count as "first" again and keep only the newest page of a burst.
            new_hw = "0"
        # The first poll takes the newest page only: older history is not a gap.
        again = hw is not None and len(body) >= limit
        cut = _id_int(new_hw) - window if new_hw is not None else 0
        kept = sorted({s for s in seen | {str(i) for i in ids} if _id_int(s) >= cut}, key=_id_int)[
            -_sweep.MAX_SEEN :
        ]
        page.cursor = {
            stream: {
                "hw": new_hw,
                "after": str(top) if again and top is not None else None,
                "seen": kept if is_tag else [],
            }
        }
        return page, again

    def _search(self, stream: str, raw: Any) -> tuple[Page, bool]:
        """One page of newest-first status search for a brand term."""
        term = stream.removeprefix("search:")
        state = _sweep.SweepState.load(raw)
        window = int(self.settings.overlap * 1000) << 16
        limit = min(self.settings.page_size, MAX_STATUS_PAGE)
        params = [("q", term), ("type", "statuses"), ("resolve", "false"), ("limit", str(limit))]
        if state.hw is not None:
            # Let the server cut at the overlap floor, so a quiet term costs one request.
            params.append(("min_id", str(max(state.hw - window, 0))))
        if state.next is not None:
            params.append(("max_id", state.next))
        response = self._get("/api/v2/search", params)
        body = json_body(response, source=self.name)
        statuses = body.get("statuses") if isinstance(body, dict) else None
        if not isinstance(statuses, list):
            raise MalformedResponse(f"{self.name}: /api/v2/search answered without a 'statuses' array")
        page = Page([], {}, items_read=len(statuses))
        usable = []
        for status in statuses:
            try:
                _id_int(status["id"])
                usable.append(status)
            except (KeyError, TypeError, ValueError) as exc:
                self._malformed(page.skipped, "/api/v2/search", status, exc)
        next_cursor = (
            str(min(_id_int(s["id"]) for s in usable)) if len(statuses) >= limit and usable else None
        )
        result = _sweep.step(
            state,
            usable,
            next_cursor,
            key=lambda s: _id_int(s["id"]),
            ident=lambda s: str(s["id"]),
            overlap=window,
            page_size=limit,
            now_key=int(time.time() * 1000) << 16,  # a snowflake id for "now"
        )
        page.skipped[_noise.SEEN] += result.repeats
        for status in result.fresh:
            try:
                mention = self._from_status(status, page.skipped, require_term=True, addressed=False)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self._malformed(page.skipped, "/api/v2/search", status, exc)
                continue
            if mention is not None:
                page.mentions.append(mention)
        if result.gap is not None:
            low, high = result.gap
            page.gaps.append(Gap(snowflake_time(low), snowflake_time(high), "search stopped paging", None))
        page.cursor = {stream: result.state.dump()}
        return page, result.more

    # -- parsing --------------------------------------------------------
    def _malformed(self, skipped: Counter[str], where: str, item: Any, exc: Exception) -> None:
        self.skip_malformed(skipped, where, item.get("id") if isinstance(item, dict) else None, exc)

    def _from_notification(self, item: dict[str, Any], skipped: Counter[str]) -> Mention | None:
        kind = item["type"]
        if kind != "mention":
            # Servers older than 3.5 ignore types[]; count what they send anyway.
            skipped[f"type:{kind}"] += 1
            return None
        status = item.get("status")
        if status is None:
            # The status was deleted (or is no longer visible) after the notification was made.
            skipped[_noise.DELETED] += 1
            return None
        return self._from_status(status, skipped, require_term=False, addressed=True)

    def _from_status(
        self, status: dict[str, Any], skipped: Counter[str], *, require_term: bool, addressed: bool
    ) -> Mention | None:
        account = status["account"]
        acct = str(account["acct"])
        text = html_to_text(status.get("content"))
        spoiler = (status.get("spoiler_text") or "").strip()
        if spoiler:
            # The content warning is part of what people read first; triage should see it.
            text = f"{spoiler}\n\n{text}" if text else spoiler
        reason = self._noise(acct, text, repost=status.get("reblog") is not None, require_term=require_term)
        if reason is not None:
            skipped[reason] += 1
            return None
        mentioned = {
            self._full(str(m.get("acct", ""))) for m in status.get("mentions") or [] if isinstance(m, dict)
        }
        own_full = {self._full(h) for h in self._own}
        followers = account.get("followers_count")
        status_id = str(status["id"])
        reply_to = status.get("in_reply_to_id")
        return Mention(
            platform=self.platform,
            external_id=status_id,
            text=text,
            created_at=datetime.fromisoformat(str(status["created_at"]).replace("Z", "+00:00")),
            author_handle=acct,
            url=status.get("url") or status.get("uri"),
            author_id=str(account["id"]) if account.get("id") is not None else None,
            author_name=account.get("display_name") or None,
            author_followers=followers if isinstance(followers, int) else None,
            language=status.get("language"),
            in_reply_to_id=str(reply_to) if reply_to is not None else None,
            # Without a /context request per post the thread root is only known for roots.
            conversation_id=status_id if reply_to is None else None,
            addressed_to_brand=addressed or bool(mentioned & own_full),
            raw=status,
        )

    def _full(self, acct: str) -> str:
        """``user`` (local) → ``user@instance``, so config may list either form."""
        acct = acct.strip().lstrip("@").lower()
        return acct if "@" in acct else f"{acct}@{self._domain}"

    def _noise(self, acct: str, text: str, *, repost: bool, require_term: bool) -> str | None:
        reason = self._screen.reason(author=acct, text=text, repost=repost, require_term=require_term)
        full = self._full(acct)
        if reason in (_noise.OWN, _noise.MUTED) or full == acct.lower():
            return reason
        # The brand config may spell the account the other way (local vs user@instance).
        if self.brand.is_own(self.platform, full):
            return _noise.OWN
        if reason != _noise.REPOST and self.brand.is_muted(self.platform, full):
            return _noise.MUTED
        return reason
