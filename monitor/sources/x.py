"""X (Twitter API v2) source: the brand account's mentions timeline and a recent search, via tweepy.

X bills every post a request returns (a post read again on the same UTC day is
billed once), so this source reads strictly after ``since_id`` (no overlap window),
counts posts read per UTC day in the cursor against ``daily_read_budget`` and
raises :class:`BudgetExhausted` instead of polling once it is spent.

Each ``fetch`` makes one API request for one stream (mentions or search), so an
error never throws away posts already read in the same poll. The cursor holds
everything needed to resume: per stream ``since_id``, and while a newest-first
run of pages is in progress its ``next_token`` and the newest id seen, so a
restart mid-pagination continues where it stopped without loss or re-reads.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import requests
import tweepy
from pydantic import Field, SecretStr, field_validator
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from monitor.brand import BrandSettings
from monitor.mention import Mention
from monitor.sources._noise import EXCLUDED, MALFORMED, MUTED, OWN, REPOST, SEEN
from monitor.sources.base import (
    AuthFailed,
    BudgetExhausted,
    Gap,
    MalformedResponse,
    Page,
    RateLimited,
    Source,
    SourceSettings,
    SourceUnavailable,
)

# tweepy 4.x builds every URL from this fixed host; the adapter below redirects it.
TWEEPY_HOST = "https://api.twitter.com"

STREAMS = ("mentions", "search")

# What we ask X for. Referenced posts are deliberately not expanded: every post in
# ``includes.tweets`` may count as a billed read, and triage does not need them.
TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "entities",
    "in_reply_to_user_id",
    "lang",
    "public_metrics",
    "referenced_tweets",
]
USER_FIELDS = ["name", "username", "public_metrics"]
EXPANSIONS = ["author_id"]

# Smallest max_results each endpoint accepts (X answers 400 below it).
MIN_RESULTS = {"mentions": 5, "search": 10}

# Twitter snowflake epoch (ms), to date a post whose created_at is missing.
_SNOWFLAKE_EPOCH_MS = 1288834974657
_RECENT_IDS_KEPT = 200  # only for posts found by both streams, which the query mostly avoids
_CURSOR_VERSION = 1
# Cursor keys of a stream that live only while a run of pages is in progress.
_RUN_KEYS = ("next_token", "pending_newest", "oldest", "until_id", "pages", "initial")
_DIGITS = re.compile(r"^\d{1,20}$")


class XSettings(SourceSettings):
    """``sources.<name>:`` keys for an X source (besides the common ones)."""

    # Optional in the model (a source built in code may lack it and fail with AuthFailed),
    # but an enabled source in the config file must have it.
    required_when_enabled: ClassVar[tuple[str, ...]] = ("bearer_token",)

    bearer_token: SecretStr | None = Field(
        default=None, description="app-only bearer token from the X developer portal (or bearer_token_file)"
    )
    user_id: str | None = Field(default=None, description="numeric id of the brand account (skips a lookup)")
    username: str | None = Field(
        default=None, description="brand account handle; defaults to the first brand.handles.x entry"
    )
    mentions: bool = Field(default=True, description="poll the brand account's mentions timeline")
    search: bool = Field(default=True, description="poll recent search for the brand's names and keywords")
    query: str | None = Field(
        default=None, description="full search query, replacing the one built from brand"
    )
    query_extra: str = Field(
        default="", description="appended to the built query, e.g. 'lang:en -is:nullcast'"
    )
    exclude_retweets: bool = Field(default=True, description="add -is:retweet to the search query")
    max_results: int = Field(default=100, ge=10, le=100, description="posts per request (10-100)")
    daily_read_budget: int | None = Field(
        default=300, ge=1, description="posts read per UTC day before polling pauses; null = no limit"
    )
    initial_pages: int = Field(
        default=1,
        ge=1,
        le=100,
        description="pages read per stream on the very first poll (older ones are a gap)",
    )
    max_query_length: int = Field(
        default=512, ge=10, description="X's query length limit for your access tier"
    )

    @field_validator("user_id")
    @classmethod
    def _numeric_id(cls, value: str | None) -> str | None:
        if value is not None and not _DIGITS.match(value.strip()):
            raise ValueError("user_id is the account's numeric id; use username: for the handle")
        return value.strip() if value else value


class _HostAdapter(HTTPAdapter):
    """Sends tweepy's requests to ``api_base`` instead of its fixed host, with a timeout.

    tweepy has no host or timeout option; mounting this on its ``requests``
    session changes both without copying or patching tweepy code.
    """

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(max_retries=0)  # retries belong to the scheduler
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = request.url or ""
        if url.startswith(TWEEPY_HOST) and self.api_base != TWEEPY_HOST:
            request.url = self.api_base + url[len(TWEEPY_HOST) :]
            # requests chose proxies (and NO_PROXY) for tweepy's host; choose them for the real one.
            proxies = get_environ_proxies(request.url)
        return super().send(
            request,
            stream=stream,
            timeout=timeout if timeout is not None else self.timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


class _Rejected(MalformedResponse):
    """HTTP 400: X refused the request; ``parameters`` names the parameters it objected to."""

    def __init__(self, message: str, parameters: set[str]) -> None:
        super().__init__(message)
        self.parameters = parameters


class XSource(Source):
    """Mentions of the brand account plus recent search for brand terms, one request per ``fetch``."""

    platform: ClassVar[str] = "x"
    Settings: ClassVar[type[SourceSettings]] = XSettings
    default_api_base: ClassVar[str | None] = TWEEPY_HOST

    def __init__(
        self,
        name: str,
        settings: SourceSettings,
        brand: BrandSettings,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(name, settings, brand)
        assert isinstance(settings, XSettings)
        self.settings: XSettings = settings
        self._clock = clock or (lambda: datetime.now(UTC))
        token = settings.bearer_token.get_secret_value() if settings.bearer_token else None
        # wait_on_rate_limit stays False: tweepy would sleep inside fetch, possibly for 15 minutes.
        self.client = tweepy.Client(
            bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False
        )
        self.client.session.mount(TWEEPY_HOST, _HostAdapter(self.api_base or TWEEPY_HOST, settings.timeout))
        self._user_id: str | None = settings.user_id
        handles = sorted(brand.own_handles(self.platform))
        self.username = (settings.username or (brand.handles.get(self.platform) or [None])[0] or "").lstrip(
            "@"
        )
        self.username = self.username or None
        self.own_handles = {h.lower() for h in handles} | (
            {self.username.lower()} if self.username else set()
        )
        self.streams = [s for s in STREAMS if self._stream_enabled(s)]
        self.query = self._build_query() if settings.search else None
        if self.query is not None and len(self.query) > settings.max_query_length:
            raise ValueError(
                f"{name}: the X search query is {len(self.query)} characters, over max_query_length "
                f"{settings.max_query_length}; shorten brand names/keywords/exclusions or set query: yourself"
            )

    # -- public ------------------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> Page:
        """One request for the next stream due in this poll round; see the module docstring."""
        if not self.settings.bearer_token:
            raise AuthFailed(
                f"{self.name}: no bearer_token configured; see docs/platforms/x.md for how to get one"
            )
        if not self.streams:
            raise AuthFailed(
                f"{self.name}: nothing to poll: set username/user_id (or brand.handles.x) for mentions, "
                "or search: true"
            )
        now = self._clock()
        cur = self._load_cursor(cursor, now)
        budget = self.settings.daily_read_budget
        if budget is not None and cur["reads"] >= budget:
            raise BudgetExhausted(
                f"{self.name}: read {cur['reads']} posts today (UTC), the daily_read_budget of {budget}; "
                "X polling resumes at 00:00 UTC (raise daily_read_budget to read more)",
                resets_at=_next_utc_midnight(now),
            )
        if not cur["round"]:
            cur["round"] = list(self.streams)
        stream = cur["round"][0]
        state = cur[stream]
        reset = state.get("rate_reset")
        if reset is not None and now.timestamp() < reset:
            # The last response said 0 requests left in this window: a request now is a sure 429.
            reset_at = datetime.fromtimestamp(reset, UTC)
            raise RateLimited(
                f"{self.name}: X {stream} rate limit used up until {reset_at:%H:%M:%S} UTC",
                reset_at=reset_at,
                retry_after=reset - now.timestamp(),
            )
        requests_made = 0
        if stream == "mentions" and self._user_id is None:
            # The handle-to-id lookup is made once and kept in the cursor.
            self._user_id = cur.get("user_id")
            if self._user_id is None:
                self._user_id = self._lookup_user_id()
                requests_made += 1
        cur["user_id"] = self._user_id

        remaining = None if budget is None else budget - cur["reads"]
        gaps: list[Gap] = []
        try:
            requests_made += 1
            response = self._request(stream, state, remaining)
        except _Rejected as exc:
            # One corrected request, not a retry loop: X refused a parameter the cursor carried.
            if not self._recover(stream, state, exc, gaps, now):
                raise
            requests_made += 1
            response = self._request(stream, state, remaining)
        body = self._decode(stream, response)
        data = body.get("data") or []
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        users = _users_by_id(body.get("includes"))

        recent = list(cur.get("recent_ids") or [])
        seen = set(recent)
        mentions: list[Mention] = []
        skipped: Counter[str] = Counter()
        ids: list[int] = []
        for item in data:
            tid = item.get("id") if isinstance(item, dict) else None
            if isinstance(tid, str) and _DIGITS.match(tid):
                ids.append(int(tid))
            mention, reason = self._to_mention(item, users, stream)
            if mention is not None and mention.external_id in seen:
                reason, mention = SEEN, None
            if mention is None:
                skipped[reason or MALFORMED] += 1
                continue
            seen.add(mention.external_id)
            recent.append(mention.external_id)
            mentions.append(mention)
        cur["recent_ids"] = recent[-_RECENT_IDS_KEPT:]
        cur["reads"] += len(data)

        newest_meta = meta.get("newest_id")
        if isinstance(newest_meta, str) and _DIGITS.match(newest_meta):
            ids.append(int(newest_meta))
        if ids:
            pending = max(ids + ([int(state["pending_newest"])] if state.get("pending_newest") else []))
            state["pending_newest"] = str(pending)
            oldest = min(ids + ([int(state["oldest"])] if state.get("oldest") else []))
            state["oldest"] = str(oldest)
        if "pages" not in state:
            # A new newest-first run. The very first one of a stream is a backfill: limited below.
            state["initial"] = not state.get("primed")
        state["pages"] = state.get("pages", 0) + 1
        state["primed"] = True
        next_token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
        if next_token and state.get("initial") and state["pages"] >= self.settings.initial_pages:
            # First poll ever: reading the whole backlog (7 days of search, 800 mentions) would bill
            # every post in it. Start from now instead and say what was not read.
            gaps.append(
                Gap(
                    start=now - timedelta(days=7),
                    end=_snowflake_time(str(min(ids))) if ids else now,
                    reason=f"x {stream}: the first poll reads only the newest {state['pages']} page(s) "
                    "(initial_pages); older posts were not fetched",
                )
            )
            next_token = None
        if next_token:
            state["next_token"] = next_token
        else:
            # The newest-first run is complete: everything up to its newest post is read.
            if state.get("pending_newest"):
                state["since_id"] = state["pending_newest"]
            for key in _RUN_KEYS:
                state.pop(key, None)
            cur["round"] = cur["round"][1:]
        state["rate_reset"] = _exhausted_until(response)
        if state["rate_reset"] is None:
            state.pop("rate_reset")
        # Stop this poll cleanly when the budget is spent; the next fetch reports the state.
        more = bool(cur["round"]) and (budget is None or cur["reads"] < budget)
        return Page(
            mentions=mentions,
            cursor=cur,
            more=more,
            skipped=skipped,
            gaps=gaps,
            requests=requests_made,
            items_read=len(data),
        )

    def close(self) -> None:
        self.client.session.close()

    # -- requests ----------------------------------------------------------
    def _stream_enabled(self, stream: str) -> bool:
        if stream == "mentions":
            return self.settings.mentions and bool(
                self.settings.user_id or self.settings.username or self.brand.handles.get(self.platform)
            )
        return self.settings.search

    def _request(self, stream: str, state: dict[str, Any], remaining: int | None) -> requests.Response:
        # Ask for no more posts than the budget has left, but X refuses fewer than its minimum.
        limit = self.settings.max_results
        if remaining is not None:
            limit = max(MIN_RESULTS[stream], min(limit, remaining))
        params: dict[str, Any] = {
            "max_results": limit,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "expansions": EXPANSIONS,
        }
        if state.get("since_id"):
            params["since_id"] = state["since_id"]
        if state.get("until_id"):
            params["until_id"] = state["until_id"]
        token = state.get("next_token")
        if stream == "mentions":
            if token:
                params["pagination_token"] = token
            return self._call(stream, self.client.get_users_mentions, self._user_id, **params)
        if token:
            params["next_token"] = token
        return self._call(stream, self.client.search_recent_tweets, self.query, **params)

    def _lookup_user_id(self) -> str:
        response = self._call("user lookup", self.client.get_user, username=self.username)
        body = self._decode("user lookup", response)
        data = body.get("data")
        uid = data.get("id") if isinstance(data, dict) else None
        if not isinstance(uid, str) or not _DIGITS.match(uid):
            raise MalformedResponse(f"{self.name}: X user lookup for @{self.username} returned no id")
        return uid

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **params: Any) -> requests.Response:
        """Call one tweepy method and turn its failures into the errors the scheduler acts on."""
        where = f"{self.name}: X {what}"
        try:
            return method(*args, **params)
        except tweepy.TooManyRequests as exc:
            capped = _usage_cap(exc.response)
            if capped:
                raise BudgetExhausted(
                    f"{where}: the project's monthly post cap is used up ({capped}); polling X pauses until "
                    "the cap resets - check usage in the developer console",
                    resets_at=_next_month(self._clock()),
                ) from exc
            reset_at, wait = _reset_from(exc.response, self._clock())
            raise RateLimited(
                f"{where}: rate limited (HTTP 429)", reset_at=reset_at, retry_after=wait
            ) from exc
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise AuthFailed(
                f"{where}: credentials refused ({_short(exc)}); check bearer_token and that the app is in a "
                "project whose access level includes this endpoint"
            ) from exc
        except tweepy.TwitterServerError as exc:
            raise SourceUnavailable(f"{where}: server error ({_short(exc)})") from exc
        except tweepy.NotFound as exc:
            raise MalformedResponse(
                f"{where}: HTTP 404 for {exc.response.request.path_url.split('?')[0]}; "
                f"is api_base ({self.api_base}) an X API v2 host?"
            ) from exc
        except tweepy.BadRequest as exc:
            params = {p for e in exc.api_errors if isinstance(e, dict) for p in (e.get("parameters") or {})}
            raise _Rejected(f"{where}: request rejected ({_short(exc)})", params) from exc
        except tweepy.HTTPException as exc:  # other 4xx: our request is wrong
            raise MalformedResponse(f"{where}: request rejected ({_short(exc)})") from exc
        except requests.Timeout as exc:
            raise SourceUnavailable(f"{where}: no answer within {self.settings.timeout}s") from exc
        except requests.RequestException as exc:
            raise SourceUnavailable(f"{where}: {type(exc).__name__}: {exc}") from exc

    def _recover(
        self, stream: str, state: dict[str, Any], exc: _Rejected, gaps: list[Gap], now: datetime
    ) -> bool:
        """Fix the stream state after X refused a cursor parameter; False if it cannot be fixed."""
        token_param = "pagination_token" if stream == "mentions" else "next_token"
        if token_param in exc.parameters and state.get("next_token"):
            # Tokens can expire (e.g. after a long outage). Continue the same run below the
            # oldest post already read instead: same since_id, nothing lost, nothing read twice.
            state.pop("next_token")
            if state.get("oldest"):
                state["until_id"] = state["oldest"]
            return True
        if stream == "search" and "since_id" in exc.parameters and state.get("since_id"):
            # Recent search only reaches 7 days back; a since_id older than that is refused.
            # Read all that is still searchable and record what no longer is.
            since = state.pop("since_id")
            state.pop("next_token", None)
            if state.get("oldest"):
                state["until_id"] = state["oldest"]
            gaps.append(
                Gap(
                    start=_snowflake_time(since),
                    end=now - timedelta(days=7),
                    reason=f"x search: older than recent search's 7 days when polled ({self.name} was "
                    "stopped or failing); these posts can no longer be read",
                )
            )
            return True
        return False

    def _decode(self, what: str, response: requests.Response) -> dict[str, Any]:
        """The JSON object of a 2xx response, or the error it carries instead of data."""
        where = f"{self.name}: X {what}"
        try:
            body = response.json()
        except (json.JSONDecodeError, requests.JSONDecodeError, UnicodeDecodeError) as exc:
            ctype = response.headers.get("content-type", "no content-type")
            raise MalformedResponse(f"{where}: expected JSON, got {ctype}: {response.text[:80]!r}") from exc
        if not isinstance(body, dict):
            raise MalformedResponse(f"{where}: expected a JSON object, got {type(body).__name__}")
        if what in STREAMS and body.get("data") is not None and not isinstance(body["data"], list):
            raise MalformedResponse(f"{where}: 'data' is not a list of posts")
        errors = body.get("errors")
        if errors and body.get("data") is None and not isinstance(body.get("meta"), dict):
            # HTTP 200 carrying only errors[]: e.g. the brand account is suspended or unknown.
            first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
            detail = first.get("detail") or first.get("title") or str(errors)[:160]
            if str(first.get("type", "")).endswith("resource-not-found") or first.get("title") == "Forbidden":
                raise AuthFailed(f"{where}: {detail}; check user_id/username in the config")
            raise MalformedResponse(f"{where}: error instead of data: {detail}")
        return body

    # -- parsing -----------------------------------------------------------
    def _to_mention(
        self, item: Any, users: dict[str, dict[str, Any]], stream: str
    ) -> tuple[Mention | None, str | None]:
        """A Mention, or None and the reason it is skipped."""
        if not isinstance(item, dict):
            return None, MALFORMED
        tid, text = item.get("id"), item.get("text")
        if not isinstance(tid, str) or not _DIGITS.match(tid) or not isinstance(text, str):
            return None, MALFORMED
        refs = [r for r in item.get("referenced_tweets") or [] if isinstance(r, dict)]
        if any(r.get("type") == "retweeted" for r in refs):
            return None, REPOST
        author_id = item.get("author_id") if isinstance(item.get("author_id"), str) else None
        author = users.get(author_id or "", {})
        username = author.get("username") if isinstance(author.get("username"), str) else None
        in_reply_to = next((r.get("id") for r in refs if r.get("type") == "replied_to"), None)
        if (username and username.lower() in self.own_handles) or (author_id and author_id == self._user_id):
            return None, OWN  # the brand's own posts and replies
        if self.brand.is_muted(self.platform, username):
            return None, MUTED
        if self.brand.excluded_term(text):
            return None, EXCLUDED
        lang = item.get("lang") if isinstance(item.get("lang"), str) and item.get("lang") != "und" else None
        if not self.brand.language_wanted(lang):
            return None, "language"  # the pipeline's name for it
        metrics = author.get("public_metrics") if isinstance(author.get("public_metrics"), dict) else {}
        followers = metrics.get("followers_count")
        url = f"https://x.com/{username}/status/{tid}" if username else f"https://x.com/i/web/status/{tid}"
        mention = Mention(
            platform=self.platform,
            external_id=tid,
            text=text,
            created_at=_parse_time(item.get("created_at")) or _snowflake_time(tid),
            author_handle=username or author_id or "",
            url=url,
            author_id=author_id,
            author_name=author.get("name") if isinstance(author.get("name"), str) else None,
            author_followers=followers if isinstance(followers, int) else None,
            language=lang,
            in_reply_to_id=in_reply_to if isinstance(in_reply_to, str) else None,
            conversation_id=item.get("conversation_id")
            if isinstance(item.get("conversation_id"), str)
            else None,
            addressed_to_brand=stream == "mentions" or self._addressed(item),
            raw={"tweet": item, "author": author or None, "stream": stream},
        )
        return mention, None

    def _addressed(self, item: dict[str, Any]) -> bool:
        if self._user_id and item.get("in_reply_to_user_id") == self._user_id:
            return True
        entities = item.get("entities") if isinstance(item.get("entities"), dict) else {}
        for m in entities.get("mentions") or []:
            if not isinstance(m, dict):
                continue
            if (self._user_id and m.get("id") == self._user_id) or (
                isinstance(m.get("username"), str) and m["username"].lower() in self.own_handles
            ):
                return True
        return False

    def _build_query(self) -> str:
        """Recent-search query: brand terms OR'd, minus retweets, the brand's own posts and exclusions."""
        if self.settings.query:
            return self.settings.query.strip()
        terms = [_quote(t) for t in self.brand.terms]
        if not self.settings.mentions:
            # Without the mentions stream, @-mentions of the brand must come from search.
            terms += [f"@{h}" for h in sorted(self.own_handles)]
        parts = [f"({' OR '.join(terms)})" if len(terms) > 1 else terms[0]]
        if self.settings.exclude_retweets:
            parts.append("-is:retweet")
        # Excluding in the query, not only afterwards, means X does not bill us for these posts.
        parts += [f"-from:{h}" for h in sorted(self.own_handles)]
        if "mentions" in self.streams and self.username:
            # The mentions stream already reads these; reading them twice would be billed twice.
            parts.append(f"-@{self.username}")
        parts += [f"-{_quote(t)}" for t in self.brand.exclusions]
        if self.settings.query_extra.strip():
            parts.append(self.settings.query_extra.strip())
        return " ".join(parts)

    # -- cursor ------------------------------------------------------------
    def _load_cursor(self, cursor: dict[str, Any], now: datetime) -> dict[str, Any]:
        """A fresh copy of ``cursor`` with today's read count and one dict per stream."""
        cur = json.loads(json.dumps(cursor or {}))  # never mutate the scheduler's copy
        cur["v"] = _CURSOR_VERSION
        today = now.astimezone(UTC).date().isoformat()
        if cur.get("reads_day") != today or not isinstance(cur.get("reads"), int):
            cur["reads_day"], cur["reads"] = today, 0
        for stream in STREAMS:
            if not isinstance(cur.get(stream), dict):
                cur[stream] = {}
        search = cur["search"]
        if self.query is not None and search.get("query") != self.query:
            # A next_token belongs to the query it came from; a changed query starts a new run.
            for key in _RUN_KEYS:
                search.pop(key, None)
            search["query"] = self.query
        account = self.settings.user_id or self.username
        if cur.get("account") != account:
            # Another brand account: its mentions timeline starts from scratch.
            cur["account"], cur["user_id"], cur["mentions"] = account, self.settings.user_id, {}
        rnd = cur.get("round")
        cur["round"] = [s for s in rnd if s in self.streams] if isinstance(rnd, list) else []
        return cur


def _quote(term: str) -> str:
    term = term.strip()
    if re.fullmatch(r"[\w#$]+", term):
        return term
    return '"' + term.replace('"', "") + '"'


def _users_by_id(includes: Any) -> dict[str, dict[str, Any]]:
    users = includes.get("users") if isinstance(includes, dict) else None
    return {u["id"]: u for u in users or [] if isinstance(u, dict) and isinstance(u.get("id"), str)}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _snowflake_time(tid: str) -> datetime:
    return datetime.fromtimestamp(((int(tid) >> 22) + _SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def _server_now(response: requests.Response | None, fallback: datetime) -> datetime:
    """The server's clock from ``date`` (X writes 'UTC', sometimes 'GMT'), to measure waits without skew."""
    value = response.headers.get("date") if response is not None else None
    try:
        return parsedate_to_datetime(value) if value else fallback
    except (TypeError, ValueError):
        return fallback


def _reset_from(response: requests.Response | None, now: datetime) -> tuple[datetime | None, float | None]:
    """``x-rate-limit-reset`` (epoch seconds) as a time and as seconds from the server's now."""
    raw = response.headers.get("x-rate-limit-reset") if response is not None else None
    try:
        reset = float(raw) if raw else None
    except ValueError:
        reset = None
    if reset is None:
        return None, None
    wait = max(1.0, reset - _server_now(response, now).timestamp())
    return now + timedelta(seconds=wait), wait


def _exhausted_until(response: requests.Response) -> float | None:
    """The window reset (epoch) when this response used the last request of the window."""
    if response.headers.get("x-rate-limit-remaining") != "0":
        return None
    try:
        return float(response.headers["x-rate-limit-reset"])
    except (KeyError, ValueError):
        return None


def _usage_cap(response: requests.Response | None) -> str | None:
    """X answers 429 with a ``usage-capped`` problem when the monthly post cap is hit."""
    try:
        body = response.json() if response is not None else None
    except (ValueError, requests.JSONDecodeError):
        return None
    if isinstance(body, dict) and (
        str(body.get("type", "")).endswith("usage-capped") or body.get("title") == "UsageCapExceeded"
    ):
        return str(body.get("detail") or body.get("title"))
    return None


def _short(exc: tweepy.HTTPException) -> str:
    return " ".join(str(exc).split())[:200]


def _next_utc_midnight(now: datetime) -> datetime:
    day: date = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _next_month(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
