"""A fake Mastodon instance: notifications, hashtag timelines and v2 search, as the real server serves them.

Shapes follow recorded Mastodon 4.x responses: bare JSON arrays paged by the
``Link`` header (``rel="next"`` with ``max_id``, ``rel="prev"`` with ``min_id``,
other filters carried over, no header on an empty page), string ids (statuses
and accounts are snowflakes made from the post's time, notifications are small
integers), explicit ``null`` fields, ``X-RateLimit-*`` on every response with an
ISO-8601 reset carrying microseconds, and ``{"error": ...}`` bodies (401 with a
``WWW-Authenticate: Bearer realm="Doorkeeper"`` header, 429 when the window is spent).
Posts are generated here; nothing is read from recordings.
"""

from __future__ import annotations

import itertools
import re
import threading
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Request, Response

DEFAULT_LIMIT = {"notifications": 40, "statuses": 20, "search": 20}
MAX_LIMIT = {"notifications": 80, "statuses": 40, "search": 40}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class FakeMastodon(FakeServer):
    """``with FakeMastodon() as fake: fake.add_mention("hi @acme")``; the brand account is ``acme``."""

    def __init__(self, *, token: str = "test-token", account: str = "acme", rate_limit: int = 300) -> None:
        super().__init__()
        self.token = token
        self.rate_limit = rate_limit
        self.window = 300  # seconds; GET buckets reset on 5-minute boundaries
        self._hits: list[datetime] = []
        self._seq = itertools.count(1)
        self._notification_ids = itertools.count(1)
        self._guard = threading.Lock()
        self.statuses: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.accounts: dict[str, dict[str, Any]] = {}
        self._plain: dict[str, str] = {}  # what full-text search matches: the text, not the markup
        self.account_name = account
        self.route("GET", "/api/v1/notifications", self._metered(self._notifications))
        self.route_prefix("GET", "/api/v1/timelines/tag/", self._metered(self._tag_timeline))
        self.route("GET", "/api/v2/search", self._metered(self._search))
        # Replies: POST /api/v1/statuses (form-encoded, 200 with the Status, Idempotency-Key kept 1 h).
        self.route("POST", "/api/v1/statuses", self._metered(self._post_status))
        self.route_prefix("GET", "/api/v1/statuses/", self._metered(self._status_path))
        self.route("GET", "/api/v1/accounts/verify_credentials", self._metered(self._verify_credentials))
        self.replies: list[dict[str, Any]] = []  # statuses created through the API (what tests count)
        self.idempotency: dict[str, str] = {}  # Idempotency-Key → status id
        self.max_characters = 500
        self.suspended = False  # the brand account's login is disabled (403 on posting)

    # -- content the instance "has" -------------------------------------
    def snowflake(self, when: datetime) -> str:
        """Mastodon ids: milliseconds since the epoch shifted 16 bits, plus a sequence."""
        return str((int(when.timestamp() * 1000) << 16) | (next(self._seq) & 0xFFFF))

    def account(self, acct: str, *, followers: int = 10, display_name: str = "") -> dict[str, Any]:
        """The account ``acct`` (``user`` is local, ``user@host`` remote), created on first use."""
        if acct in self.accounts:
            return self.accounts[acct]
        username, _, host = acct.partition("@")
        origin = f"https://{host}" if host else self.url
        account_id = self.snowflake(datetime(2024, 1, 1, tzinfo=UTC))
        self.accounts[acct] = {
            "id": account_id,
            "username": username,
            "acct": acct,
            "display_name": display_name,
            "locked": False,
            "bot": False,
            "discoverable": None,
            "indexable": False,
            "group": False,
            "created_at": "2024-01-01T00:00:00.000Z",
            "note": "",
            "url": f"{origin}/@{username}",
            "uri": f"{origin}/users/{username}",
            "avatar": f"{self.url}/avatars/original/missing.png",
            "avatar_static": f"{self.url}/avatars/original/missing.png",
            "header": f"{self.url}/headers/original/missing.png",
            "header_static": f"{self.url}/headers/original/missing.png",
            "followers_count": followers,
            "following_count": 0,
            "statuses_count": 1,
            "last_status_at": "2024-01-01",
            "hide_collections": None,
            "emojis": [],
            "fields": [],
        }
        return self.accounts[acct]

    def add_status(
        self,
        text: str,
        *,
        author: str = "alice",
        created_at: datetime | None = None,
        mentions: list[str] = (),  # type: ignore[assignment]
        tags: list[str] = (),  # type: ignore[assignment]
        in_reply_to: dict[str, Any] | None = None,
        language: str | None = "en",
        spoiler: str = "",
        reblog_of: dict[str, Any] | None = None,
        followers: int = 10,
        display_name: str = "",
    ) -> dict[str, Any]:
        """A public status by ``author``; ``@acct`` and ``#tag`` are rendered as Mastodon renders them."""
        when = created_at or datetime.now(UTC)
        account = self.account(author, followers=followers, display_name=display_name)
        status_id = self.snowflake(when)
        uri = f"{account['uri']}/statuses/{status_id}"
        status = {
            "id": status_id,
            "created_at": _iso(when),
            "in_reply_to_id": in_reply_to["id"] if in_reply_to else None,
            "in_reply_to_account_id": in_reply_to["account"]["id"] if in_reply_to else None,
            "sensitive": bool(spoiler),
            "spoiler_text": spoiler,
            "visibility": "public",
            "language": language,
            "uri": f"{uri}/activity" if reblog_of else uri,
            "url": None if reblog_of else f"{account['url']}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "edited_at": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": "" if reblog_of else self._html(text, mentions, tags),
            "filtered": [],
            "reblog": reblog_of,
            "application": None,
            "account": account,
            "media_attachments": [],
            "mentions": [
                {
                    "id": self.account(m)["id"],
                    "username": m.partition("@")[0],
                    "url": self.account(m)["url"],
                    "acct": m,
                }
                for m in mentions
            ],
            "tags": [{"name": t.lower(), "url": f"{self.url}/tags/{t.lower()}"} for t in tags],
            "emojis": [],
            "quote": None,
            "card": None,
            "poll": None,
        }
        with self._guard:
            self.statuses[status_id] = status
            self._plain[status_id] = text.lower()
        return status

    def add_mention(self, text: str, *, author: str = "alice", **kw: Any) -> dict[str, Any]:
        """A status that @-mentions the brand account, and the mention notification it causes."""
        mentions = [self.account_name, *kw.pop("mentions", [])]
        status = self.add_status(f"@{self.account_name} {text}", author=author, mentions=mentions, **kw)
        self.add_notification("mention", status=status, account=status["account"])
        return status

    def add_notification(
        self,
        kind: str,
        *,
        status: dict[str, Any] | None = None,
        account: dict[str, Any] | None = None,
        null_status: bool = False,
    ) -> dict[str, Any]:
        """Any notification; ``null_status=True`` serves ``"status": null`` (the post became invisible)."""
        note_id = str(next(self._notification_ids))
        note: dict[str, Any] = {
            "id": note_id,
            "type": kind,
            "created_at": status["created_at"] if status else _iso(datetime.now(UTC)),
            "group_key": f"ungrouped-{note_id}",
            "account": account or self.account("someone"),
        }
        if status is not None or null_status:
            note["status"] = None if null_status else status
        with self._guard:
            self.notifications.append(note)
        return note

    # -- the API --------------------------------------------------------
    def _metered(self, handler: Any) -> Any:
        """Token check and the rate-limit window around a handler, headers on every answer."""

        def serve(req: Request) -> Response:
            now = datetime.now(UTC)
            with self._guard:
                self._hits = [t for t in self._hits if t > now - timedelta(seconds=self.window)]
                self._hits.append(now)
                used = len(self._hits)
            reset = datetime.fromtimestamp((now.timestamp() // self.window + 1) * self.window, UTC)
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(self.rate_limit - used, 0)),
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "Cache-Control": "private, no-store",
                "Vary": "Authorization, Origin",
            }
            if used > self.rate_limit:
                return Response(429, {"error": "Too many requests"}, headers)
            if req.headers.get("authorization") != f"Bearer {self.token}":
                headers["WWW-Authenticate"] = (
                    'Bearer realm="Doorkeeper", error="invalid_token", '
                    'error_description="The access token is invalid"'
                )
                return Response(401, {"error": "The access token is invalid"}, headers)
            resp = handler(req)
            resp.headers = {**headers, **resp.headers}
            return resp

        return serve

    def _limit(self, req: Request, kind: str) -> int:
        try:
            asked = abs(int(req.arg("limit") or DEFAULT_LIMIT[kind]))
        except ValueError:
            asked = DEFAULT_LIMIT[kind]
        return min(asked or DEFAULT_LIMIT[kind], MAX_LIMIT[kind])

    def _window(self, items: list[dict[str, Any]], req: Request, limit: int) -> list[dict[str, Any]]:
        """Mastodon's id paging: newest first; ``min_id`` gives the page just above it, oldest end first."""

        def num(value: str | None) -> int | None:
            return int(value) if value and value.isdigit() else None

        max_id, since_id, min_id = num(req.arg("max_id")), num(req.arg("since_id")), num(req.arg("min_id"))
        ordered = sorted(items, key=lambda i: int(i["id"]), reverse=True)
        if max_id is not None:
            ordered = [i for i in ordered if int(i["id"]) < max_id]
        if since_id is not None:
            ordered = [i for i in ordered if int(i["id"]) > since_id]
        if min_id is not None:
            above = [i for i in ordered if int(i["id"]) > min_id]
            return above[-limit:]
        return ordered[:limit]

    def _link(self, req: Request, page: list[dict[str, Any]], keep: tuple[str, ...]) -> dict[str, str]:
        if not page:
            return {}
        carried = [(k, v) for k in keep for v in req.query.get(k, [])]
        base = f"{self.url}{req.path}"
        older = urlencode([("max_id", page[-1]["id"]), *carried])
        newer = urlencode([("min_id", page[0]["id"]), *carried])
        return {"Link": f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'}

    def _notifications(self, req: Request) -> Response:
        types = req.query.get("types[]") or []
        excluded = req.query.get("exclude_types[]") or []
        with self._guard:
            items = [
                n
                for n in self.notifications
                if (not types or n["type"] in types) and n["type"] not in excluded
            ]
        page = self._window(items, req, self._limit(req, "notifications"))
        return Response(200, page, self._link(req, page, ("limit", "types[]", "exclude_types[]")))

    def _tag_timeline(self, req: Request) -> Response:
        tag = req.path.removeprefix("/api/v1/timelines/tag/").lower()
        with self._guard:
            items = [
                s
                for s in self.statuses.values()
                if s["reblog"] is None and any(t["name"] == tag for t in s["tags"])
            ]
        page = self._window(items, req, self._limit(req, "statuses"))
        return Response(200, page, self._link(req, page, ("limit",)))

    def _search(self, req: Request) -> Response:
        query = (req.arg("q") or "").strip().lower()
        kind = req.arg("type")
        statuses: list[dict[str, Any]] = []
        if query and kind in (None, "statuses"):
            with self._guard:
                found = [
                    s for s in self.statuses.values() if s["reblog"] is None and query in self._plain[s["id"]]
                ]
            # Full-text search answers newest first and cuts with min_id/max_id, paging by offset.
            limit = self._limit(req, "search")
            min_id, max_id = req.arg("min_id"), req.arg("max_id")
            found = sorted(found, key=lambda s: int(s["id"]), reverse=True)
            if min_id and min_id.isdigit():
                found = [s for s in found if int(s["id"]) > int(min_id)]
            if max_id and max_id.isdigit():
                found = [s for s in found if int(s["id"]) < int(max_id)]
            offset = int(req.arg("offset") or 0)
            statuses = found[offset : offset + limit]
        return Response(200, {"accounts": [], "statuses": statuses, "hashtags": [], "collections": []})

    def _post_status(self, req: Request) -> Response:
        form = {k: v[0] for k, v in req.form().items()}
        key = req.headers.get("idempotency-key")
        with self._guard:
            known = self.idempotency.get(key) if key else None
            if known is not None:
                return Response(200, self.statuses[known])  # the server answers a repeat with the same status
        if self.suspended:
            return Response(403, {"error": "Your login is currently disabled"})
        text = form.get("status", "")
        if not text.strip():
            return Response(422, {"error": "Validation failed: Text can't be blank"})
        if len(text) > self.max_characters:
            return Response(
                422, {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}
            )
        parent = None
        if form.get("in_reply_to_id"):
            parent = self.statuses.get(form["in_reply_to_id"])
            if parent is None:
                return Response(404, {"error": "Record not found"})
        mentions = re.findall(r"@([\w.-]+(?:@[\w.-]+)?)", text)
        status = self.add_status(text, author=self.account_name, in_reply_to=parent, mentions=mentions)
        status["visibility"] = form.get("visibility", "public")
        status["spoiler_text"] = form.get("spoiler_text", "")
        with self._guard:
            self.replies.append(status)
            if key:
                self.idempotency[key] = status["id"]
        self.accepted()
        return Response(200, status)

    def _status_path(self, req: Request) -> Response:
        match = re.fullmatch(r"/api/v1/statuses/(\d+)(/context)?", req.path)
        if match is None:
            return Response(404, {"error": "Not Found"})
        status = self.statuses.get(match.group(1))
        if status is None:
            return Response(404, {"error": "Record not found"})
        if not match.group(2):
            return Response(200, status)
        with self._guard:
            descendants = sorted(
                (s for s in self.statuses.values() if s["in_reply_to_id"] == status["id"]),
                key=lambda s: int(s["id"]),
            )
        return Response(200, {"ancestors": [], "descendants": descendants})

    def _verify_credentials(self, req: Request) -> Response:
        return Response(200, {**self.account(self.account_name), "source": {"privacy": "public"}})

    @staticmethod
    def _html(text: str, mentions: list[str], tags: list[str]) -> str:
        paragraphs = []
        for para in text.split("\n\n"):
            html = escape(para).replace("\n", "<br />")
            for acct in mentions:
                username = acct.partition("@")[0]
                html = html.replace(
                    f"@{escape(acct)}",
                    f'<span class="h-card" translate="no"><a href="/@{escape(acct)}" class="u-url mention">'
                    f"@<span>{escape(username)}</span></a></span>",
                )
            for tag in tags:
                html = html.replace(
                    f"#{escape(tag)}",
                    f'<a href="/tags/{escape(tag.lower())}" class="mention hashtag" rel="tag">'
                    f"#<span>{escape(tag)}</span></a>",
                )
            paragraphs.append(f"<p>{html}</p>")
        return "".join(paragraphs)
