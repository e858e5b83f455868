"""A fake Bluesky PDS/AppView: sessions, listNotifications and searchPosts, as the real XRPC endpoints behave.

Shapes follow recorded bsky.social responses: ``/xrpc/<nsid>`` routes, 200 on
success, ``{"error": "<Name>", "message": ...}`` bodies, ``RateLimit-Limit /
-Remaining / -Reset`` (epoch seconds) / ``-Policy`` headers with no ``x-`` prefix
(``3000;w=300`` in general, ``10;w=86400`` on ``createSession``, also on its 401),
notification cursors that are the last item's ``indexedAt``, search cursors that
are numeric offsets, and no ``cursor`` key when there is nothing more. Tests can
expire the access or refresh tokens (answered with 400 or 401 ``ExpiredToken``)
and cap how deep search pages. Posts are generated here.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import regex

from tests.fakes.server import FakeServer, Request, Response

_B32 = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, as in record keys (TIDs)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def tid(when: datetime, clock_id: int) -> str:
    """A record key: 53 bits of microseconds and 10 bits of clock id, base32-sortable."""
    value = (int(when.timestamp() * 1_000_000) << 10) | (clock_id & 0x3FF)
    return "".join(_B32[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _error(status: int, name: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"error": name, "message": message}, headers or {})


class _Bucket:
    """A fixed window like the PDS's: ``limit`` requests per ``window`` seconds."""

    def __init__(self, limit: int, window: int) -> None:
        self.limit, self.window = limit, window
        self.start = datetime.now(UTC)
        self.used = 0

    def hit(self) -> tuple[bool, dict[str, str]]:
        now = datetime.now(UTC)
        if now >= self.start + timedelta(seconds=self.window):
            self.start, self.used = now, 0
        self.used += 1
        reset = int((self.start + timedelta(seconds=self.window)).timestamp())
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(self.limit - self.used, 0)),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }
        return self.used <= self.limit, headers


class FakeBluesky(FakeServer):
    """``with FakeBluesky() as fake: fake.add_mention("hi")``; the brand account is ``acme.bsky.social``."""

    def __init__(
        self,
        *,
        handle: str = "acme.bsky.social",
        password: str = "abcd-efgh-ijkl-mnop",
        rate_limit: int = 3000,
        login_limit: int = 10,
        public_search: bool = False,
    ) -> None:
        super().__init__()
        self.handle, self.password = handle, password
        self.did = self.did_for(handle)
        self.general = _Bucket(rate_limit, 300)
        self.logins = _Bucket(login_limit, 86400)
        self.expired_status = 400  # older PDS versions answer ExpiredToken with 400, newer with 401
        self.search_max_offset: int | None = None  # the AppView stops handing out cursors this deep
        self.public_search = public_search  # act as the public AppView: search without a session
        self._access: dict[str, str] = {}  # token → "ok" | "expired"
        self._refresh: dict[str, str] = {}  # token → "ok" | "expired" | "revoked"
        self._clock = itertools.count(1)
        self._guard = threading.Lock()
        self.posts: list[dict[str, Any]] = []  # post views, as search returns them
        self.notifications: list[dict[str, Any]] = []
        self.route("POST", "/xrpc/com.atproto.server.createSession", self._create_session)
        self.route("POST", "/xrpc/com.atproto.server.refreshSession", self._metered(self._refresh_session))
        self.route(
            "GET", "/xrpc/app.bsky.notification.listNotifications", self._metered(self._list_notifications)
        )
        self.route("GET", "/xrpc/app.bsky.feed.searchPosts", self._metered(self._search_posts))
        # Replies: the record is created in the account's repo; the thread view shows it under its parent.
        self.route("POST", "/xrpc/com.atproto.repo.createRecord", self._metered(self._create_record))
        self.route("GET", "/xrpc/app.bsky.feed.getPostThread", self._metered(self._get_post_thread))
        self.route("GET", "/xrpc/com.atproto.identity.resolveHandle", self._metered(self._resolve_handle))
        self.replies: list[dict[str, Any]] = []  # post views created through createRecord
        self.blocked_by: set[str] = set()  # author handles that block the brand account
        self.replies_disabled: set[str] = set()  # post uris whose threadgate excludes the brand account
        self.deleted: set[str] = set()  # post uris deleted by their authors
        self.known_handles: set[str] = set()  # resolvable besides every author seen

    # -- what the network "has" -----------------------------------------
    @staticmethod
    def did_for(handle: str) -> str:
        digest = base64.b32encode(handle.encode()).decode().lower().rstrip("=")
        return f"did:plc:{(digest + 'a' * 24)[:24]}"

    def profile(self, handle: str, *, display_name: str | None = None, basic: bool = False) -> dict[str, Any]:
        did = self.did_for(handle)
        view: dict[str, Any] = {
            "did": did,
            "handle": handle,
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkreiavatar@jpeg",
            "associated": {"chat": {"allowIncoming": "all"}},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": "2024-01-01T00:00:00.000Z",
        }
        if display_name is not None:
            view["displayName"] = display_name
        if not basic:
            view["description"] = ""
            view["indexedAt"] = "2024-01-01T00:00:00.000Z"
        return view

    def _cid(self) -> str:
        return "bafyrei" + secrets.token_hex(26)[:52]

    def add_post(
        self,
        text: str,
        *,
        author: str = "alice.bsky.social",
        display_name: str | None = "Alice",
        created_at: datetime | None = None,
        indexed_at: datetime | None = None,
        langs: list[str] | None = None,
        reply_to: dict[str, Any] | None = None,
        quote: dict[str, Any] | None = None,
        mention: list[str] = (),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """A post view; each ``@handle`` in ``mention`` gets a facet with UTF-8 byte offsets."""
        indexed = indexed_at or datetime.now(UTC)
        created = created_at or indexed
        did = self.did_for(author)
        uri = f"at://{did}/app.bsky.feed.post/{tid(created, next(self._clock))}"
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": iso(created), "text": text}
        if langs is not None:
            record["langs"] = langs
        facets = []
        data = text.encode("utf-8")
        for handle in mention:
            start = data.find(f"@{handle}".encode())
            if start >= 0:
                facets.append(
                    {
                        "$type": "app.bsky.richtext.facet",
                        "features": [
                            {"$type": "app.bsky.richtext.facet#mention", "did": self.did_for(handle)}
                        ],
                        "index": {"byteStart": start, "byteEnd": start + len(handle.encode()) + 1},
                    }
                )
        if facets:
            record["facets"] = facets
        if reply_to is not None:
            root = reply_to["record"].get("reply", {}).get("root") or {
                "uri": reply_to["uri"],
                "cid": reply_to["cid"],
            }
            record["reply"] = {"parent": {"cid": reply_to["cid"], "uri": reply_to["uri"]}, "root": root}
        if quote is not None:
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"cid": quote["cid"], "uri": quote["uri"]},
            }
        post = {
            "uri": uri,
            "cid": self._cid(),
            "author": self.profile(author, display_name=display_name, basic=True),
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": iso(indexed),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        with self._guard:
            self.posts.append(post)
        return post

    def notify(self, reason: str, post: dict[str, Any], *, subject: str | None = None) -> dict[str, Any]:
        """A notification for the brand account caused by ``post`` (or a like/repost/follow record)."""
        note = {
            "uri": post["uri"],
            "cid": post["cid"],
            "author": self.profile(post["author"]["handle"], display_name=post["author"].get("displayName")),
            "reason": reason,
            "record": post["record"],
            "isRead": False,
            "indexedAt": post["indexedAt"],
            "labels": [],
        }
        if subject is not None:
            note["reasonSubject"] = subject
        with self._guard:
            self.notifications.append(note)
        return note

    def add_mention(self, text: str, **kw: Any) -> dict[str, Any]:
        """A post that @-mentions the brand (with a facet) and its ``mention`` notification."""
        post = self.add_post(f"@{self.handle} {text}", mention=[self.handle, *kw.pop("mention", [])], **kw)
        self.notify("mention", post)
        return post

    def add_reply(self, text: str, parent: dict[str, Any], **kw: Any) -> dict[str, Any]:
        post = self.add_post(text, reply_to=parent, **kw)
        self.notify("reply", post, subject=parent["uri"])
        return post

    def add_quote(self, text: str, quoted: dict[str, Any], **kw: Any) -> dict[str, Any]:
        post = self.add_post(text, quote=quoted, **kw)
        self.notify("quote", post, subject=quoted["uri"])
        return post

    def add_interaction(
        self, reason: str, subject: dict[str, Any] | None, *, author: str = "fan.bsky.social"
    ) -> None:
        """A like, repost or follow notification (its record is not a post)."""
        when = datetime.now(UTC)
        collection = {"like": "app.bsky.feed.like", "repost": "app.bsky.feed.repost"}.get(
            reason, "app.bsky.graph.follow"
        )
        did = self.did_for(author)
        record: dict[str, Any] = {"$type": collection, "createdAt": iso(when)}
        record["subject"] = {"cid": subject["cid"], "uri": subject["uri"]} if subject else self.did
        fake_post = {
            "uri": f"at://{did}/{collection}/{tid(when, next(self._clock))}",
            "cid": self._cid(),
            "author": {"handle": author, "displayName": None},
            "record": record,
            "indexedAt": iso(when),
        }
        self.notify(reason, fake_post, subject=subject["uri"] if subject else None)

    # -- sessions ---------------------------------------------------------
    def _jwt(self, kind: str) -> str:
        now = int(datetime.now(UTC).timestamp())
        header = {"typ": "at+jwt" if kind == "access" else "refresh+jwt", "alg": "ES256K"}
        claims = {
            "scope": f"com.atproto.{kind}",
            "sub": self.did,
            "iat": now,
            "exp": now + 7200,
            "jti": secrets.token_hex(8),
        }
        return f"{_b64(header)}.{_b64(claims)}.{secrets.token_urlsafe(32)}"

    def _session_body(self) -> dict[str, Any]:
        access, refresh = self._jwt("access"), self._jwt("refresh")
        with self._guard:
            self._access[access] = "ok"
            self._refresh[refresh] = "ok"
        return {
            "did": self.did,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": self.did,
                "alsoKnownAs": [f"at://{self.handle}"],
                "service": [
                    {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.url}
                ],
            },
            "handle": self.handle,
            "email": "brand@example.invalid",
            "emailConfirmed": True,
            "emailAuthFactor": False,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }

    def expire_access_tokens(self) -> None:
        with self._guard:
            self._access = dict.fromkeys(self._access, "expired")

    def expire_refresh_tokens(self) -> None:
        with self._guard:
            self._refresh = {t: ("expired" if s == "ok" else s) for t, s in self._refresh.items()}

    def calls(self, nsid: str) -> int:
        return sum(1 for r in self.requests if r.path == f"/xrpc/{nsid}")

    def _create_session(self, req: Request) -> Response:
        allowed, headers = self.logins.hit()
        if not allowed:
            return _error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        try:
            body = req.json()
        except ValueError:
            return _error(400, "InvalidRequest", "Request body must be JSON", headers)
        if not isinstance(body, dict) or "identifier" not in body or "password" not in body:
            return _error(400, "InvalidRequest", 'Input must have the property "identifier"', headers)
        if body["identifier"] not in (self.handle, self.did) or body["password"] != self.password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password", headers)
        return Response(200, self._session_body(), headers)

    def _refresh_session(self, req: Request) -> Response:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        with self._guard:
            state = self._refresh.get(token)
            if state == "ok":
                self._refresh[token] = "revoked"  # refresh tokens rotate on use
        if state is None and token in self._access:
            return _error(400, "InvalidToken", "Invalid token type")
        if state == "expired":
            return _error(400, "ExpiredToken", "Token has expired")
        if state != "ok":
            return _error(400, "InvalidToken", "Token has been revoked")
        body = self._session_body()
        del body["email"], body["emailConfirmed"], body["emailAuthFactor"]
        return Response(200, body)

    def _metered(self, handler: Any) -> Any:
        def serve(req: Request) -> Response:
            allowed, headers = self.general.hit()
            if not allowed:
                return _error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
            public = self.public_search and req.path.endswith("searchPosts")
            if not req.path.endswith("refreshSession") and not public:
                auth = req.headers.get("authorization")
                if auth is None:
                    return _error(401, "AuthenticationRequired", "Authentication Required", headers)
                state = self._access.get(auth.removeprefix("Bearer "))
                if state == "expired":
                    return _error(self.expired_status, "ExpiredToken", "Token has expired", headers)
                if state != "ok":
                    return _error(400, "InvalidToken", "Bad token scope", headers)
            resp = handler(req)
            resp.headers = {**headers, **resp.headers}
            return resp

        return serve

    # -- queries ----------------------------------------------------------
    @staticmethod
    def _limit(req: Request, default: int) -> int | Response:
        raw = req.arg("limit")
        try:
            limit = int(raw) if raw is not None else default
        except ValueError:
            return _error(400, "InvalidRequest", "limit must be an integer")
        if not 1 <= limit <= 100:
            return _error(400, "InvalidRequest", "limit must be less than or equal to 100")
        return limit

    def _list_notifications(self, req: Request) -> Response:
        limit = self._limit(req, 50)
        if isinstance(limit, Response):
            return limit
        with self._guard:
            items = sorted(self.notifications, key=lambda n: n["indexedAt"], reverse=True)
        cursor = req.arg("cursor")
        if cursor:
            items = [n for n in items if n["indexedAt"] < cursor]  # strictly older, like the AppView
        page = items[:limit]
        body: dict[str, Any] = {"notifications": page, "priority": False, "seenAt": iso(datetime.now(UTC))}
        if page:
            body["cursor"] = page[-1]["indexedAt"]
        return Response(200, body)

    def _search_posts(self, req: Request) -> Response:
        query = (req.arg("q") or "").strip().strip('"').lower()
        if not req.arg("q"):
            return _error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        limit = self._limit(req, 25)
        if isinstance(limit, Response):
            return limit
        try:
            offset = int(req.arg("cursor") or 0)
        except ValueError:
            return _error(400, "InvalidRequest", "invalid cursor")
        with self._guard:
            # Substring match: like the real index it also returns near misses ("acmeish").
            hits = [p for p in self.posts if query in p["record"]["text"].lower()]
        hits.sort(key=lambda p: p["indexedAt"], reverse=True)
        page = hits[offset : offset + limit]
        body: dict[str, Any] = {"posts": page}
        end = offset + len(page)
        if end < len(hits) and (self.search_max_offset is None or end < self.search_max_offset):
            body["cursor"] = str(end)
        return Response(200, body)

    # -- replies ----------------------------------------------------------
    def _find(self, uri: str | None) -> dict[str, Any] | None:
        if uri in self.deleted:
            return None
        with self._guard:
            return next((p for p in self.posts if p["uri"] == uri), None)

    def _create_record(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or body.get("repo") not in (self.did, self.handle):
            return _error(400, "InvalidRequest", "Input/repo must be the authenticated account")
        record = body.get("record") or {}
        if body.get("collection") != "app.bsky.feed.post" or record.get("$type") != "app.bsky.feed.post":
            return _error(400, "InvalidRequest", "Invalid collection or record type")
        text = str(record.get("text", ""))
        if len(regex.findall(r"\X", text)) > 300:
            return _error(
                400,
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes",
            )
        reply = record.get("reply")
        if reply is not None and not (
            isinstance(reply, dict)
            and all(
                isinstance(reply.get(k), dict) and reply[k].get("uri") and reply[k].get("cid")
                for k in ("root", "parent")
            )
        ):
            return _error(
                400, "InvalidRequest", "Invalid app.bsky.feed.post record: Record/reply needs root+parent"
            )
        when = datetime.now(UTC)
        uri = f"at://{self.did}/app.bsky.feed.post/{tid(when, next(self._clock))}"
        post = {
            "uri": uri,
            "cid": self._cid(),
            "author": self.profile(self.handle, display_name="Acme", basic=True),
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": iso(when),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        with self._guard:
            self.posts.append(post)
            self.replies.append(post)
        self.accepted()
        rev = tid(when, 0)
        return Response(
            200,
            {
                "uri": uri,
                "cid": post["cid"],
                "commit": {"cid": self._cid(), "rev": rev},
                "validationStatus": "valid",
            },
        )

    def _get_post_thread(self, req: Request) -> Response:
        uri = req.arg("uri")
        post = self._find(uri)
        if post is None:
            return _error(400, "NotFound", f"Post not found: {uri}")
        if post["author"]["handle"] in self.blocked_by:
            return Response(
                200,
                {
                    "thread": {
                        "$type": "app.bsky.feed.defs#blockedPost",
                        "uri": uri,
                        "blocked": True,
                        "author": {"did": post["author"]["did"], "viewer": {"blockedBy": True}},
                    }
                },
            )
        gate = {"replyDisabled": True} if uri in self.replies_disabled else {}
        view = {**post, "viewer": {**post["viewer"], **gate}}
        depth = int(req.arg("depth") or 6)
        replies = []
        if depth > 0:
            with self._guard:
                replies = [
                    {"$type": "app.bsky.feed.defs#threadViewPost", "post": p, "replies": []}
                    for p in self.posts
                    if (p["record"].get("reply") or {}).get("parent", {}).get("uri") == uri
                    and p["uri"] not in self.deleted
                ]
        return Response(
            200, {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": view, "replies": replies}}
        )

    def _resolve_handle(self, req: Request) -> Response:
        handle = (req.arg("handle") or "").lower()
        with self._guard:
            seen = {p["author"]["handle"] for p in self.posts} | self.known_handles | {self.handle}
        if handle not in seen:
            return _error(400, "InvalidRequest", "Unable to resolve handle")
        return Response(200, {"did": self.did_for(handle)})

    def not_found(self, req: Request) -> Response:
        if req.path.startswith("/xrpc/"):
            return _error(501, "MethodNotImplemented", "Method Not Implemented")
        return Response(404, "Cannot GET " + req.path, {"Content-Type": "text/html; charset=utf-8"})
