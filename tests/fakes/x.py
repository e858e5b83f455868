"""A fake X API v2 on 127.0.0.1 that answers the way the real one does, for the X source tests.

It holds its own users and posts (ids are real snowflakes, so they sort by time)
and serves the endpoints the source uses: ``/2/users/:id/mentions``,
``/2/tweets/search/recent`` (a small subset of the query language),
``/2/users/by/username/:name`` and ``/2/users/me``. Shapes follow recorded
real responses: newest-first pages with ``meta.next_token`` only when more
exist, ``{"meta":{"result_count":0}}`` for nothing, inapplicable fields left
out (never null), HTTP 200 with only ``errors[]`` for suspended or unknown
users, 400 invalid-request problems, 401 problem+json without rate-limit
headers, text/plain 429 and an HTML 404, ``x-rate-limit-*`` headers per
15-minute window and a ``date`` header ending in ``UTC``.

Every post served in ``data`` is recorded in ``served`` (what X would bill).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Request, Response

SNOWFLAKE_EPOCH_MS = 1288834974657
WINDOW_SECONDS = 15 * 60
PROBLEMS = "https://api.twitter.com/2/problems"

TWEET_FIELDS = {
    "attachments",
    "author_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "edit_controls",
    "entities",
    "geo",
    "id",
    "in_reply_to_user_id",
    "lang",
    "public_metrics",
    "possibly_sensitive",
    "referenced_tweets",
    "reply_settings",
    "source",
    "text",
    "withheld",
    "edit_history_tweet_ids",
}
USER_FIELDS = {
    "created_at",
    "description",
    "entities",
    "id",
    "location",
    "name",
    "pinned_tweet_id",
    "profile_image_url",
    "protected",
    "public_metrics",
    "url",
    "username",
    "verified",
    "withheld",
}
TIMELINE_EXPANSIONS = {
    "author_id",
    "referenced_tweets.id",
    "referenced_tweets.id.author_id",
    "entities.mentions.username",
    "attachments.poll_ids",
    "attachments.media_keys",
    "in_reply_to_user_id",
    "geo.place_id",
    "edit_history_tweet_ids",
}
FIELD_PARAMS = {"tweet.fields", "user.fields", "media.fields", "place.fields", "poll.fields", "expansions"}
MENTIONS_PARAMS = FIELD_PARAMS | {
    "end_time",
    "max_results",
    "pagination_token",
    "since_id",
    "start_time",
    "until_id",
}
SEARCH_PARAMS = FIELD_PARAMS | {
    "end_time",
    "max_results",
    "next_token",
    "query",
    "since_id",
    "sort_order",
    "start_time",
    "until_id",
}
NOT_FOUND_HTML = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>X / ?</title></head>\n'
    "<body><h1>Sorry, that page doesn't exist!</h1></body>\n</html>\n"
)


@dataclass
class FakeUser:
    id: str
    username: str
    name: str
    followers: int = 0
    suspended: bool = False

    def as_json(self, fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "username": self.username}
        if "public_metrics" in fields:
            out["public_metrics"] = {
                "followers_count": self.followers,
                "following_count": 10,
                "tweet_count": 100,
                "listed_count": 1,
            }
        if "verified" in fields:
            out["verified"] = False
        if "protected" in fields:
            out["protected"] = False
        return out


@dataclass
class _Window:
    reset: int
    used: int = 0


class FakeX(FakeServer):
    """``with FakeX() as fake:``, then ``add_user`` and ``post``; the source's api_base is ``fake.url``."""

    def __init__(self, *, bearer_token: str = "fake-bearer-token", rate_limit: int = 450) -> None:
        super().__init__()
        self.bearer_token = bearer_token
        self.rate_limit = rate_limit  # requests per 15-minute window on the mentions and search endpoints
        self.users: dict[str, FakeUser] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.served: list[str] = []
        # Tokens with a user context for users/me; an app-only bearer gets 403 there, as on X.
        self.user_tokens: dict[str, str] = {}
        self._tokens: dict[str, tuple[tuple[str, ...], int]] = {}
        self._windows: dict[tuple[str, str], _Window] = {}
        self._last_ms = 0
        self._seq = 0
        self._past_seq = 0
        self._data_lock = threading.Lock()
        self.route_prefix("GET", "/2/users/by/username/", self._user_by_username)
        self.route("GET", "/2/users/me", self._me)
        self.route("GET", "/2/tweets/search/recent", self._search_recent)
        self.route_prefix("GET", "/2/users/", self._users_path)
        # Replies: POST /2/tweets (JSON, 201 with data.id/text); a user-context token is required.
        self.route("POST", "/2/tweets", self._create_tweet)
        self.replies: list[dict[str, Any]] = []  # posts created through the API (what tests count)
        # Self-serve tiers: replies only to posts that mention or quote the replying account.
        self.restrict_replies = False
        self.deleted: set[str] = set()

    def __enter__(self) -> FakeX:
        self.start()
        return self

    # -- content ------------------------------------------------------------
    def add_user(
        self, username: str, *, name: str | None = None, followers: int = 0, suspended: bool = False
    ) -> FakeUser:
        user = FakeUser(self._next_id(None), username, name or username.title(), followers, suspended)
        self.users[user.id] = user
        return user

    def post(
        self,
        author: FakeUser,
        text: str,
        *,
        created_at: datetime | None = None,
        reply_to: dict[str, Any] | None = None,
        retweet_of: dict[str, Any] | None = None,
        quote_of: dict[str, Any] | None = None,
        lang: str = "en",
    ) -> dict[str, Any]:
        """Store a post as X would hold it (all fields), and return it."""
        with self._data_lock:
            if retweet_of is not None:
                orig_author = self.users[retweet_of["author_id"]]
                text = f"RT @{orig_author.username}: {retweet_of['text']}"[:140]
            tid = self._next_id(created_at)
            when = _snowflake_time(tid)
            tweet: dict[str, Any] = {
                "id": tid,
                "text": text,
                "edit_history_tweet_ids": [tid],
                "author_id": author.id,
                "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
                "conversation_id": reply_to["conversation_id"] if reply_to else tid,
                "lang": lang,
                "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
                "possibly_sensitive": False,
                "source": "Fake X Client",
            }
            mentions = []
            for match in re.finditer(r"@(\w{1,15})", text):
                user = self._user_named(match.group(1))
                if user is not None:  # X links only handles that exist
                    mentions.append(
                        {"start": match.start(), "end": match.end(), "username": user.username, "id": user.id}
                    )
            if mentions:
                tweet["entities"] = {"mentions": mentions}
            refs = []
            if reply_to is not None:
                refs.append({"type": "replied_to", "id": reply_to["id"]})
                tweet["in_reply_to_user_id"] = reply_to["author_id"]
            if retweet_of is not None:
                refs.append({"type": "retweeted", "id": retweet_of["id"]})
            if quote_of is not None:
                refs.append({"type": "quoted", "id": quote_of["id"]})
            if refs:
                tweet["referenced_tweets"] = refs
            self.tweets[tid] = tweet
            return tweet

    def expire_tokens(self) -> None:
        """Forget every pagination token issued so far (X's tokens do not live forever)."""
        self._tokens.clear()

    def served_counts(self) -> dict[str, int]:
        """How many times each post id was returned (X bills each, once per UTC day)."""
        counts: dict[str, int] = {}
        for tid in self.served:
            counts[tid] = counts.get(tid, 0) + 1
        return counts

    # -- canned failures, shaped like the recorded ones -----------------------
    @staticmethod
    def too_many_requests(reset_in: int = 60, limit: int = 450) -> Response:
        return Response(
            429,
            "Rate limit exceeded\n",
            {
                "Content-Type": "text/plain;charset=utf-8",
                **_base_headers(),
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(time.time()) + reset_in),
            },
        )

    @staticmethod
    def server_error(status: int = 503) -> Response:
        title = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(
            status, "Error"
        )
        return Response(
            status,
            {"title": title, "detail": title, "type": "about:blank", "status": status},
            {"Content-Type": "application/problem+json", **_base_headers()},
        )

    @staticmethod
    def usage_capped() -> Response:
        """The monthly-cap 429 as X documents it (no recording of one exists in the samples)."""
        return Response(
            429,
            {
                "title": "UsageCapExceeded",
                "detail": "Usage cap exceeded: Monthly product cap",
                "type": f"{PROBLEMS}/usage-capped",
                "period": "Monthly",
                "scope": "Product",
            },
            {"Content-Type": "application/json; charset=utf-8", **_base_headers()},
        )

    # -- routing --------------------------------------------------------------
    def not_found(self, req: Request) -> Response:
        # X answers unknown paths with an HTML page (still carrying rate-limit headers).
        return Response(
            404,
            NOT_FOUND_HTML,
            {
                "Content-Type": "text/html;charset=utf-8",
                **_base_headers(),
                "x-rate-limit-limit": "300",
                "x-rate-limit-remaining": "299",
                "x-rate-limit-reset": str(int(time.time()) + WINDOW_SECONDS),
            },
        )

    def _users_path(self, req: Request) -> Response:
        own = re.fullmatch(r"/2/users/([^/]+)/tweets", req.path)
        if own is not None:
            denied, rl = self._authorize(req, "users/tweets", 1500)
            if denied:
                return denied
            return self._timeline(req, "pagination_token", lambda t: t["author_id"] == own.group(1), rl)
        match = re.fullmatch(r"/2/users/([^/]+)/mentions", req.path)
        if match is None:
            return self.not_found(req)
        return self._mentions(req, match.group(1))

    def _create_tweet(self, req: Request) -> Response:
        denied, rl = self._authorize(req, "tweets/create", 200)
        if denied:
            return denied
        token = req.headers["authorization"][len("Bearer ") :]
        if token not in self.user_tokens:
            return _json(
                403,
                {
                    "title": "Unsupported Authentication",
                    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
                    "endpoint.  Supported authentication types are "
                    "[OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    "type": f"{PROBLEMS}/unsupported-authentication",
                    "status": 403,
                },
                rl,
            )
        me = self.users[self.user_tokens[token]]

        def forbidden(detail: str) -> Response:
            problem = {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}
            return _json(403, problem, rl)

        if me.suspended:
            return forbidden("Your account is suspended and is not permitted to access this feature.")
        body = req.json() or {}
        text = str(body.get("text", ""))
        target_id = str((body.get("reply") or {}).get("in_reply_to_tweet_id", ""))
        target = self.tweets.get(target_id) if target_id else None
        if target_id and (target is None or target_id in self.deleted):
            return forbidden("You attempted to reply to a Tweet that is deleted or not visible to you.")
        if target is not None and self.restrict_replies:
            mentioned = any(m["id"] == me.id for m in target.get("entities", {}).get("mentions", []))
            if not mentioned and target["author_id"] != me.id:
                return forbidden(
                    "Reply to this conversation is not allowed because you have not been mentioned or "
                    "otherwise engaged by the author of the post you are replying to."
                )
        if any(t["author_id"] == me.id and t["text"] == text for t in self.tweets.values()):
            return forbidden("You are not allowed to create a Tweet with duplicate content.")
        tweet = self.post(me, text, reply_to=target)
        self.replies.append(tweet)
        self.accepted()
        data = {"id": tweet["id"], "text": tweet["text"], "edit_history_tweet_ids": [tweet["id"]]}
        return _json(
            201, {"data": data}, {**rl, "location": f"https://api.twitter.com/2/tweets/{tweet['id']}"}
        )

    def _authorize(self, req: Request, endpoint: str, limit: int) -> tuple[Response | None, dict[str, str]]:
        """A 401/429 to send instead, or None and the rate-limit headers for this request."""
        auth = req.headers.get("authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if token != self.bearer_token and token not in self.user_tokens:
            return Response(
                401,
                {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
                {"Content-Type": "application/problem+json", **_base_headers()},
            ), {}
        now = int(time.time())
        with self._data_lock:
            window = self._windows.get((token, endpoint))
            if window is None or now >= window.reset:
                window = self._windows[(token, endpoint)] = _Window(reset=now + WINDOW_SECONDS)
            window.used += 1
            remaining = limit - window.used
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(remaining, 0)),
            "x-rate-limit-reset": str(window.reset),
        }
        if remaining < 0:
            return Response(
                429,
                "Rate limit exceeded\n",
                {"Content-Type": "text/plain;charset=utf-8", **_base_headers(), **headers},
            ), headers
        return None, headers

    # -- endpoints ------------------------------------------------------------
    def _me(self, req: Request) -> Response:
        denied, rl = self._authorize(req, "users/me", 75)
        if denied:
            return denied
        token = req.headers["authorization"][len("Bearer ") :]
        if token not in self.user_tokens:
            return _json(
                403,
                {
                    "title": "Unsupported Authentication",
                    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
                    "endpoint.  Supported authentication types are "
                    "[OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    "type": f"{PROBLEMS}/unsupported-authentication",
                    "status": 403,
                },
                rl,
            )
        return _json(200, {"data": self.users[self.user_tokens[token]].as_json(set())}, rl)

    def _user_by_username(self, req: Request) -> Response:
        denied, rl = self._authorize(req, "users/by/username", 900)
        if denied:
            return denied
        bad = _check_params(req, FIELD_PARAMS)
        if bad:
            return _json(400, bad, rl)
        name = req.path.rsplit("/", 1)[-1]
        user = self._user_named(name)
        if user is None:
            return _json(
                200,
                {
                    "errors": [
                        _resource_error(
                            "username",
                            name,
                            "Not Found Error",
                            f"Could not find user with username: [{name}].",
                        )
                    ]
                },
                rl,
            )
        if user.suspended:
            return _json(
                200,
                {
                    "errors": [
                        _resource_error("username", name, "Forbidden", f"User has been suspended: [{name}].")
                    ]
                },
                rl,
            )
        return _json(200, {"data": user.as_json(_csv(req, "user.fields"))}, rl)

    def _mentions(self, req: Request, user_id: str) -> Response:
        denied, rl = self._authorize(req, "users/mentions", self.rate_limit)
        if denied:
            return denied
        bad = _check_params(req, MENTIONS_PARAMS, max_results=(5, 100))
        if bad:
            return _json(400, bad, rl)
        user = self.users.get(user_id)
        if user is None:
            return _json(
                200,
                {
                    "errors": [
                        _resource_error(
                            "id", user_id, "Not Found Error", f"Could not find user with id: [{user_id}]."
                        )
                    ]
                },
                rl,
            )
        if user.suspended:
            return _json(
                200,
                {
                    "errors": [
                        _resource_error("id", user_id, "Forbidden", f"User has been suspended: [{user_id}].")
                    ]
                },
                rl,
            )

        def mentions_user(t: dict[str, Any]) -> bool:
            return any(m["id"] == user_id for m in t.get("entities", {}).get("mentions", []))

        return self._timeline(req, "pagination_token", mentions_user, rl)

    def _search_recent(self, req: Request) -> Response:
        denied, rl = self._authorize(req, "tweets/search/recent", self.rate_limit)
        if denied:
            return denied
        bad = _check_params(req, SEARCH_PARAMS, max_results=(10, 100))
        if bad:
            return _json(400, bad, rl)
        query = req.arg("query")
        if not query:
            return _json(400, _invalid({"query": [""]}, "The `query` query parameter can not be empty"), rl)
        if len(query) > 512:
            return _json(
                400,
                _invalid(
                    {"query": [query]},
                    f"There were errors processing your request: Query length ({len(query)}) "
                    "exceeds the 512 character limit",
                ),
                rl,
            )
        try:
            matcher = _QueryParser(query, self).parse()
        except ValueError as exc:
            return _json(
                400, _invalid({"query": [query]}, f"There were errors processing your request: {exc}"), rl
            )
        week_ago = datetime.now(UTC) - timedelta(days=7)
        since = req.arg("since_id")
        if since and since.isdigit() and _snowflake_time(since) < week_ago:
            # Recent search refuses ids older than its 7-day reach (shape of the recorded 400s).
            return _json(
                400,
                _invalid(
                    {"since_id": [since]},
                    f"Invalid 'since_id':'{since}'. 'since_id' must be a tweet id created after "
                    f"{week_ago:%Y-%m-%dT%H:%MZ}",
                ),
                rl,
            )
        return self._timeline(
            req, "next_token", lambda t: _snowflake_time(t["id"]) >= week_ago and matcher(t), rl
        )

    def _timeline(self, req: Request, token_param: str, wanted: Any, rl: dict[str, str]) -> Response:
        """Newest-first pages between since_id and until_id, continued by an opaque token."""
        since = req.arg("since_id")
        until = req.arg("until_id")
        for name, value in (("since_id", since), ("until_id", until)):
            if value is not None and not value.isdigit():
                return _json(
                    400,
                    _invalid(
                        {name: [value]},
                        f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$",
                    ),
                    rl,
                )
        signature = (req.path, req.arg("query") or "", since or "", until or "")
        token = req.arg(token_param)
        below: int | None = int(until) if until else None
        if token is not None:
            known = self._tokens.get(token)
            if known is None or known[0] != signature:
                return _json(
                    400,
                    _invalid(
                        {token_param: [token]},
                        f"The `{token_param}` query parameter value [{token}] is not valid",
                    ),
                    rl,
                )
            below = known[1]
        limit = int(req.arg("max_results") or 10)
        with self._data_lock:
            matching = sorted(
                (
                    t
                    for t in self.tweets.values()
                    if wanted(t)
                    and (since is None or int(t["id"]) > int(since))
                    and (below is None or int(t["id"]) < below)
                ),
                key=lambda t: int(t["id"]),
                reverse=True,
            )
        page, rest = matching[:limit], matching[limit:]
        if not page:
            return _json(200, {"meta": {"result_count": 0}}, rl)
        tweet_fields = _csv(req, "tweet.fields")
        user_fields = _csv(req, "user.fields")
        expansions = _csv(req, "expansions")
        body: dict[str, Any] = {"data": [_select(t, tweet_fields) for t in page]}
        includes = self._includes(page, expansions, user_fields, tweet_fields)
        if includes:
            body["includes"] = includes
        meta: dict[str, Any] = {
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
            "result_count": len(page),
        }
        if rest:
            new_token = secrets.token_hex(20)
            self._tokens[new_token] = (signature, int(page[-1]["id"]))
            meta["next_token"] = new_token
        body["meta"] = meta
        with self._data_lock:
            self.served.extend(t["id"] for t in page)
        return _json(200, body, rl)

    def _includes(
        self, page: list[dict[str, Any]], expansions: set[str], user_fields: set[str], tweet_fields: set[str]
    ) -> dict[str, Any]:
        user_ids: list[str] = []
        if "author_id" in expansions:
            user_ids += [t["author_id"] for t in page]
        if "in_reply_to_user_id" in expansions:
            user_ids += [t["in_reply_to_user_id"] for t in page if "in_reply_to_user_id" in t]
        if "entities.mentions.username" in expansions:
            user_ids += [m["id"] for t in page for m in t.get("entities", {}).get("mentions", [])]
        includes: dict[str, Any] = {}
        users = [self.users[u].as_json(user_fields) for u in dict.fromkeys(user_ids) if u in self.users]
        if users:
            includes["users"] = users
        if "referenced_tweets.id" in expansions:
            refs = [r["id"] for t in page for r in t.get("referenced_tweets", [])]
            tweets = [_select(self.tweets[r], tweet_fields) for r in dict.fromkeys(refs) if r in self.tweets]
            if tweets:
                includes["tweets"] = tweets
                with self._data_lock:
                    self.served.extend(t["id"] for t in tweets)
        return includes

    # -- helpers ----------------------------------------------------------------
    def _next_id(self, created_at: datetime | None) -> str:
        # A snowflake: milliseconds, a worker id, a sequence number within the millisecond. Posts
        # made "now" come from worker 1 and keep increasing; back-dated ones from worker 2.
        if created_at is not None:
            self._past_seq = (self._past_seq + 1) % 4096
            ms = int(created_at.timestamp() * 1000)
            return str(((ms - SNOWFLAKE_EPOCH_MS) << 22) | (2 << 12) | self._past_seq)
        ms = max(int(time.time() * 1000), self._last_ms)
        self._seq = self._seq + 1 if ms == self._last_ms else 0
        if self._seq >= 4096:
            ms, self._seq = ms + 1, 0
        self._last_ms = ms
        return str(((ms - SNOWFLAKE_EPOCH_MS) << 22) | (1 << 12) | self._seq)

    def _user_named(self, name: str) -> FakeUser | None:
        return next((u for u in self.users.values() if u.username.lower() == name.lower()), None)


class _QueryParser:
    """Just enough of X's search syntax for the source: terms, phrases, OR, (), -, is:/from:/lang:/@."""

    TOKEN = re.compile(r'\s*(?:(-?\()|(\))|(-?"[^"]*")|(-?[^\s()"]+))')
    OPERATORS = {"is", "from", "to", "lang", "has", "url", "conversation_id"}

    def __init__(self, query: str, fake: FakeX) -> None:
        self.fake = fake
        self.tokens: list[str] = []
        pos = 0
        while pos < len(query):
            match = self.TOKEN.match(query, pos)
            if match is None or match.end() == pos:
                if query[pos:].strip():
                    raise ValueError(f"cannot parse query at position {pos}")
                break
            self.tokens.append(next(g for g in match.groups() if g))
            pos = match.end()
        self.pos = 0
        self.positive = 0

    def parse(self) -> Any:
        matcher = self._expr()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.pos]!r}")
        if not self.positive:
            raise ValueError("a query needs at least one term that is not negated and not an is: operator")
        return matcher

    def _expr(self) -> Any:
        options = [self._conj()]
        while self.pos < len(self.tokens) and self.tokens[self.pos] == "OR":
            self.pos += 1
            options.append(self._conj())
        return lambda t: any(o(t) for o in options)

    def _conj(self) -> Any:
        parts = []
        while self.pos < len(self.tokens) and self.tokens[self.pos] not in (")", "OR"):
            parts.append(self._unary())
        if not parts:
            raise ValueError("empty clause")
        return lambda t: all(p(t) for p in parts)

    def _unary(self) -> Any:
        token = self.tokens[self.pos]
        self.pos += 1
        negated = token.startswith("-")
        token = token[1:] if negated else token
        if token == "(":
            inner = self._expr()
            if self.pos >= len(self.tokens) or self.tokens[self.pos] != ")":
                raise ValueError("missing )")
            self.pos += 1
            atom = inner
        else:
            atom = self._atom(token, negated)
        return (lambda t: not atom(t)) if negated else atom

    def _atom(self, token: str, negated: bool) -> Any:
        fake = self.fake
        op, _, value = token.partition(":")
        if value and op in self.OPERATORS:
            if op == "is":
                kind = {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}.get(value)
                if kind is None:
                    raise ValueError(f"unknown operator is:{value}")
                return lambda t: any(r["type"] == kind for r in t.get("referenced_tweets", []))
            if not negated:
                self.positive += 1
            if op == "from":
                return lambda t: fake.users[t["author_id"]].username.lower() == value.lower()
            if op == "lang":
                return lambda t: t.get("lang") == value
            if op == "to":
                return lambda t: (
                    t.get("in_reply_to_user_id")
                    in {u.id for u in fake.users.values() if u.username.lower() == value.lower()}
                )
            raise ValueError(f"operator {op}: is not supported by this fake")
        if not negated:
            self.positive += 1
        if token.startswith("@"):
            name = token[1:].lower()
            return lambda t: any(
                m["username"].lower() == name for m in t.get("entities", {}).get("mentions", [])
            )
        phrase = token.strip('"')
        pattern = re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.IGNORECASE)
        return lambda t: bool(pattern.search(t["text"]))


def _snowflake_time(tid: str) -> datetime:
    return datetime.fromtimestamp(((int(tid) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def _select(tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    # Default fields are id, text and edit_history_tweet_ids; absent fields stay absent.
    keep = {"id", "text", "edit_history_tweet_ids"} | fields
    return {k: v for k, v in tweet.items() if k in keep}


def _csv(req: Request, name: str) -> set[str]:
    value = req.arg(name) or ""
    return {v for v in value.split(",") if v}


def _check_params(
    req: Request, allowed: set[str], max_results: tuple[int, int] | None = None
) -> dict[str, Any] | None:
    """The 400 invalid-request body X sends for a parameter it does not accept, else None."""
    for name, values in req.query.items():
        if name not in allowed:
            return _invalid(
                {name: values}, f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]"
            )
    known = {"tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS, "expansions": TIMELINE_EXPANSIONS}
    for name, valid in known.items():
        for value in _csv(req, name):
            if value not in valid:
                return _invalid(
                    {name: [value]},
                    f"The `{name}` query parameter value [{value}] is not one of [{','.join(sorted(valid))}]",
                )
    if max_results and req.arg("max_results") is not None:
        low, high = max_results
        raw = req.arg("max_results") or ""
        if not raw.isdigit() or not low <= int(raw) <= high:
            return _invalid(
                {"max_results": [raw]},
                f"The `max_results` query parameter value [{raw}] is not between {low} and {high}",
            )
    return None


def _invalid(parameters: dict[str, list[str]], message: str) -> dict[str, Any]:
    return {
        "errors": [{"parameters": parameters, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": f"{PROBLEMS}/invalid-request",
    }


def _resource_error(parameter: str, value: str, title: str, detail: str) -> dict[str, Any]:
    return {
        "value": value,
        "detail": detail,
        "title": title,
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": value,
        "type": f"{PROBLEMS}/resource-not-found",
    }


def _base_headers() -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S UTC"),
        "server": "tsa_b",
        "cache-control": "no-cache, no-store, max-age=0",
        "x-content-type-options": "nosniff",
        "x-frame-options": "SAMEORIGIN",
        "strict-transport-security": "max-age=631138519",
        "x-response-time": "12",
    }


def _json(status: int, body: dict[str, Any], rate_limit: dict[str, str]) -> Response:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        **_base_headers(),
        "content-disposition": "attachment; filename=json.json",
        "x-access-level": "read",
        "api-version": "2.150",
        **rate_limit,
    }
    return Response(status, body, headers)
