"""Reddit source: brand terms in post and comment search, plus the account's username mentions.

Talks to the OAuth API (``oauth.reddit.com``) as a "script" app: a password-grant
token kept in memory, refreshed on expiry or after one 401. Search and inbox
listings are newest-first and page backwards with ``after`` fullnames, so every
stream keeps a high-water mark (``created_utc`` plus the ids seen in the overlap
window) and, while it pages back towards that mark, the ``after`` it stopped at.
Both live in the cursor (via :mod:`monitor.sources._sweep`, shared with the
other newest-first feeds), which is what lets a restart resume mid-pagination.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr, field_validator

from monitor import __version__
from monitor.mention import Mention
from monitor.sources import _sweep
from monitor.sources._noise import DELETED, SEEN, NoiseScreen
from monitor.sources._polling import advance_round, round_todo
from monitor.sources._ratelimit import RateLimitGate
from monitor.sources.base import (
    AuthFailed,
    Clock,
    Gap,
    MalformedResponse,
    Page,
    RateLimited,
    Source,
    SourceSettings,
)
from monitor.sources.http import json_body, make_client, send

log = logging.getLogger(__name__)

WEB_BASE = "https://www.reddit.com"
CURSOR_VERSION = 1
_SUBREDDIT = re.compile(r"^[A-Za-z0-9_]{2,21}$")
_REMOVED = {"[deleted]", "[removed]"}
_WAIT = re.compile(r"(\d+)\s*(second|minute|hour)", re.IGNORECASE)


class RedditSettings(SourceSettings):
    """``sources.<name>:`` for a Reddit source (credentials of a "script" app)."""

    client_id: str = Field(min_length=1, description="the id under the app name at reddit.com/prefs/apps")
    client_secret: SecretStr = Field(description="the app's secret")
    username: str = Field(min_length=1, description="the account the script app belongs to")
    password: SecretStr = Field(description="that account's password (no 2FA on script accounts)")
    user_agent: str | None = Field(
        default=None,
        description="as Reddit asks; default 'server:mention-monitor:<version> (by /u/<username>)'",
    )
    auth_base: str = Field(default=WEB_BASE, description="where the token endpoint lives")
    subreddits: list[str] = Field(
        default_factory=list, description="search only these; empty = all of Reddit"
    )
    search_types: list[Literal["link", "comment"]] = Field(
        default_factory=lambda: ["link", "comment"], description="search posts (link) and/or comments"
    )
    inbox: bool = Field(default=True, description="also read the account's username mentions")
    limit: int = Field(default=100, ge=1, le=100, description="items per request (Reddit's maximum is 100)")
    overlap_seconds: float = Field(
        default=300, ge=0, description="re-read this far behind the mark (search lag)"
    )
    lookback_seconds: float = Field(
        default=3600, ge=0, description="the first poll keeps newest-page posts this young"
    )

    @field_validator("subreddits")
    @classmethod
    def _subreddit_names(cls, value: list[str]) -> list[str]:
        names = [v.strip().removeprefix("/").removeprefix("r/") for v in value]
        bad = [n for n in names if not _SUBREDDIT.match(n)]
        if bad:
            raise ValueError(f"not subreddit names: {bad}; write them like 'python' or 'r/python'")
        return names


def rate_limit_headers(
    response: httpx.Response, now: float | None = None
) -> tuple[float | None, datetime | None]:
    """Reddit's ``x-ratelimit-remaining`` (a float string, "9324.0") and ``-reset`` (seconds from now)."""
    now = time.time() if now is None else now
    try:
        remaining = float(response.headers["x-ratelimit-remaining"])
    except (KeyError, ValueError):
        remaining = None
    try:
        reset_at = datetime.fromtimestamp(now + float(response.headers["x-ratelimit-reset"]), UTC)
    except (KeyError, ValueError):
        reset_at = None
    return remaining, reset_at


def canonical_url(path_or_url: str) -> str:
    """``https://www.reddit.com`` + the permalink path, without ``?ref=…``/``?context=3``."""
    path = urlsplit(path_or_url).path or "/"
    return WEB_BASE + (path if path.startswith("/") else "/" + path)


@dataclass(slots=True)
class _Item:
    """A listing child already parsed into a mention plus what the noise rules need."""

    fullname: str
    created: float
    author: str | None
    text: str
    mention: Mention
    repost: bool
    deleted: bool


class RedditSource(Source):
    """Polls Reddit search (posts, comments) and ``/message/mentions`` for one brand."""

    platform: ClassVar[str] = "reddit"
    Settings: ClassVar[type[SourceSettings]] = RedditSettings
    default_api_base: ClassVar[str | None] = "https://oauth.reddit.com"

    settings: RedditSettings

    def __init__(
        self,
        name: str,
        settings: SourceSettings,
        brand: Any,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(name, settings, brand, clock=clock)
        s = self.settings
        self._clock = clock
        self._screen = NoiseScreen(brand, self.platform)
        self._api = make_client(self.api_base or "", s.timeout, transport)
        self._auth = make_client(s.auth_base.rstrip("/"), s.timeout, transport)
        self._user_agent = s.user_agent or f"server:mention-monitor:{__version__} (by /u/{s.username})"
        self._token: str | None = None
        self._token_expires = 0.0
        # Stop before a request Reddit would refuse once remaining reaches 0 ("0.0").
        self._gate = RateLimitGate(
            name, lambda r: rate_limit_headers(r, self._clock()), now=lambda: _ts(self._clock())
        )
        handles = sorted(brand.own_handles(self.platform)) if brand is not None else []
        self._addressed = (
            re.compile(r"(?<![\w/])/?u/(?:" + "|".join(map(re.escape, handles)) + r")(?!\w)", re.IGNORECASE)
            if handles
            else None
        )

    # -- the one public operation -------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> Page:
        """Read one page of the next stream in this round (posts, comments, inbox)."""
        streams = self._streams()
        saved = cursor.get("streams") if isinstance(cursor.get("streams"), dict) else {}
        todo = round_todo(cursor.get("todo"), streams)
        key = todo[0]
        page = Page(mentions=[], cursor={}, requests=0)
        state, done = self._step(key, saved.get(key), page)
        states, rest = advance_round(saved, todo, streams, key, state, not done)
        page.cursor = {"v": CURSOR_VERSION, "streams": states, "todo": rest}
        page.more = bool(rest)
        return page

    def close(self) -> None:
        self._api.close()
        self._auth.close()

    # -- the responder posts with the same app and token ---------------------
    def access_token(self, *, fresh: bool = False) -> str:
        """A valid bearer token (``fresh``: drop the current one first, e.g. after a 401)."""
        if fresh:
            self._token = None
        return self._ensure_token(Page(mentions=[], cursor={}, requests=0))

    @property
    def user_agent(self) -> str:
        return self._user_agent

    # -- one page of one stream -----------------------------------------------------
    def _streams(self) -> list[str]:
        streams: list[str] = list(dict.fromkeys(self.settings.search_types))
        if self.settings.inbox:
            streams.append("inbox")
        return streams

    def _step(self, key: str, raw: Any, page: Page) -> tuple[dict[str, Any], bool]:
        """One newest-first page of ``key``; :mod:`._sweep` decides what is new and when to stop."""
        s = self.settings
        state = _sweep.SweepState.load(raw)
        first_ever = state.hw is None
        children, after = self._listing(self._request_listing(key, state.next, page))
        page.items_read += len(children)
        items: list[_Item] = []
        for child in children:
            try:
                items.append(self._item(child, key))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                # One odd item must not cost the rest of the page; say which one and move on.
                data = child.get("data") if isinstance(child, dict) else None
                ident = data.get("name") if isinstance(data, dict) else None
                self.skip_malformed(page.skipped, f"the {key} listing", ident, exc)
        result = _sweep.step(
            state,
            items,
            after,
            key=lambda item: int(item.created),
            ident=lambda item: item.fullname,
            overlap=int(s.overlap_seconds),
            page_size=s.limit,
            now_key=int(self._clock() - s.lookback_seconds),
        )
        if result.repeats:
            page.skipped[SEEN] += result.repeats
        # The very first poll reads only the newest page, and only what is younger than the lookback.
        start = self._clock() - s.lookback_seconds if first_ever else None
        for item in result.fresh:
            if start is not None and item.created < start:
                continue
            reason = (
                DELETED
                if item.deleted
                else self._screen.reason(
                    author=item.author, text=item.text, repost=item.repost, require_term=key != "inbox"
                )
            )
            if reason:
                page.skipped[reason] += 1
            else:
                page.mentions.append(item.mention)
        if result.gap is not None:
            low, high = result.gap
            page.gaps.append(
                Gap(
                    start=_ts(low),
                    end=_ts(high),
                    reason=f"reddit {key}: listing ended above the last mark (Reddit stops near 1000 items)",
                )
            )
        return result.state.dump(), not result.more

    def _request_listing(self, key: str, after: str | None, page: Page) -> Any:
        s = self.settings
        params: dict[str, str | int] = {"limit": s.limit, "raw_json": 1}
        if key == "inbox":
            path = "/message/mentions"
            params["mark"] = "false"  # reading must not mark the agents' inbox as read
        else:
            path = f"/r/{'+'.join(s.subreddits)}/search" if s.subreddits else "/search"
            params.update(q=self._query(), sort="new", type=key)
            if s.subreddits:
                params["restrict_sr"] = 1
        if after:
            params["after"] = after
        return self._get(path, params, page)

    def _query(self) -> str:
        terms = [t.replace('"', "") for t in self.brand.terms]
        return " OR ".join(f'"{t}"' for t in terms if t.strip())

    # -- HTTP ---------------------------------------------------------------------------
    def _spend(self, page: Page) -> None:
        self.budget.spend(self.name)
        page.requests += 1

    def _get(self, path: str, params: dict[str, Any], page: Page) -> Any:
        """GET with a bearer token; a 401/403 gets one fresh token and one more try."""
        for attempt in (1, 2):
            self._gate.check()
            token = self._ensure_token(page)
            self._spend(page)
            try:
                response = send(
                    self._api,
                    "GET",
                    path,
                    source=self.name,
                    rate_limit=lambda r: rate_limit_headers(r, self._clock()),
                    params=params,
                    headers={"Authorization": f"bearer {token}", "User-Agent": self._user_agent},
                )
            except AuthFailed:
                self._token = None
                if attempt == 2:
                    raise
                continue
            self._gate.observe(response)
            return json_body(response, source=self.name)
        raise AssertionError("unreachable")  # pragma: no cover

    def _ensure_token(self, page: Page) -> str:
        if self._token is not None and self._clock() < self._token_expires - 60:
            return self._token
        s = self.settings
        self._spend(page)
        response = send(
            self._auth,
            "POST",
            "/api/v1/access_token",
            source=self.name,
            auth=(s.client_id, s.client_secret.get_secret_value()),
            data={
                "grant_type": "password",
                "username": s.username,
                "password": s.password.get_secret_value(),
            },
            headers={"User-Agent": self._user_agent},
        )
        body = json_body(response, source=self.name)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            # Reddit answers a wrong username/password with HTTP 200 and {"error": "invalid_grant"}.
            error = body.get("error") if isinstance(body, dict) else body
            raise AuthFailed(
                f"{self.name}: Reddit refused the login of u/{s.username} ({error}); check username and "
                "password, that the account has no 2FA, and that the app is a 'script' app it develops"
            )
        try:
            expires_in = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            expires_in = 3600.0
        self._token = token
        self._token_expires = self._clock() + expires_in
        return token

    def _listing(self, body: Any) -> tuple[list[Any], str | None]:
        """Children and ``after`` of a Listing; errors Reddit put in a 200 body become source errors."""
        if isinstance(body, dict):
            wrapped = body.get("json")
            errors = wrapped.get("errors") if isinstance(wrapped, dict) else None
            if errors:
                raise self._body_error(errors)
            if "error" in body and body.get("kind") != "Listing":
                raise MalformedResponse(
                    f"{self.name}: Reddit answered 200 with error {body.get('error')!r}: "
                    f"{body.get('message')!r}"
                )
        data = body.get("data") if isinstance(body, dict) and body.get("kind") == "Listing" else None
        children = data.get("children") if isinstance(data, dict) else None
        after = data.get("after") if isinstance(data, dict) else None
        if not isinstance(children, list) or not isinstance(after, str | None):
            raise MalformedResponse(f"{self.name}: expected a Reddit Listing, got {str(body)[:80]!r}")
        return children, after or None

    def _body_error(self, errors: Any) -> Exception:
        first = errors[0] if isinstance(errors, list) and errors else errors
        code = first[0] if isinstance(first, list) and first else str(first)
        text = first[1] if isinstance(first, list) and len(first) > 1 else str(first)
        if code == "RATELIMIT":
            match = _WAIT.search(str(text))
            wait = None
            if match:
                wait = (
                    float(match.group(1)) * {"second": 1, "minute": 60, "hour": 3600}[match.group(2).lower()]
                )
            reset = _ts(self._clock() + wait) if wait is not None else None
            return RateLimited(f"{self.name}: Reddit says {text}", reset_at=reset, retry_after=wait)
        return MalformedResponse(f"{self.name}: Reddit returned errors in a 200 body: {errors!r:.200}")

    # -- payload → Mention ------------------------------------------------------------
    def _item(self, child: Any, stream: str) -> _Item:
        kind = child["kind"]
        data = child["data"]
        if not isinstance(data, dict):
            raise TypeError(f"data is {type(data).__name__}")
        fullname = data.get("name") or f"{kind}_{data['id']}"
        if not isinstance(fullname, str):
            raise TypeError("name is not a string")
        created = float(data["created_utc"])
        author = data.get("author") if isinstance(data.get("author"), str) else None
        deleted = False
        if kind == "t3":
            title = data.get("title") or ""
            body = data.get("selftext") or ""
            if body in _REMOVED:
                body = ""
            text = f"{title}\n\n{body}" if body else title
            link = data.get("permalink") or f"/comments/{data['id']}/"
            in_reply_to, conversation = None, fullname
            repost = bool(data.get("crosspost_parent") or data.get("crosspost_parent_list"))
        elif kind == "t1":
            text = data.get("body") or ""
            deleted = text.strip() in _REMOVED
            link = data.get("permalink") or data.get("context")
            if not isinstance(link, str):
                raise KeyError("permalink")
            in_reply_to = data.get("parent_id")
            conversation = data.get("link_id") or _link_fullname(link)
            repost = False
        else:
            raise ValueError(f"unexpected kind {kind!r}")
        if not isinstance(text, str) or not isinstance(link, str):
            raise TypeError("text or permalink is not a string")
        addressed = stream == "inbox" or bool(self._addressed and self._addressed.search(text))
        mention = Mention(
            platform=self.platform,
            external_id=fullname,
            text=text,
            created_at=_ts(created),
            author_handle=author or "[deleted]",
            url=canonical_url(link),
            author_id=data.get("author_fullname") if isinstance(data.get("author_fullname"), str) else None,
            in_reply_to_id=in_reply_to if isinstance(in_reply_to, str) else None,
            conversation_id=conversation if isinstance(conversation, str) else None,
            addressed_to_brand=addressed,
            raw=data,
        )
        return _Item(fullname, created, author, text, mention, repost, deleted)


def _link_fullname(permalink: str) -> str | None:
    """``/r/x/comments/abc123/slug/def/`` → ``t3_abc123`` (inbox items carry no ``link_id``)."""
    match = re.search(r"/comments/([a-z0-9]+)/", permalink)
    return f"t3_{match.group(1)}" if match else None


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
