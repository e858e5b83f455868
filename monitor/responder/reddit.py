"""Reddit replies: ``POST /api/comment`` with the mention's fullname as ``thing_id``, as the source's app.

The answer is a 200 whose body holds the outcome: ``json.errors`` (``[code,
message, field]`` triples: deleted parent, locked or archived thread, banned,
``RATELIMIT`` with a wait in words) or ``json.data.things`` with the new comment.
An empty ``things`` with no error means nothing was created. The OAuth
``x-ratelimit-*`` headers are honoured through the source's gate reader.

There is no idempotency key: before a re-send, the account's newest comments are
searched for one under the same parent with the same text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from monitor.responder.base import (
    Posted,
    Replier,
    ReplyAmbiguous,
    ReplyAuthFailed,
    ReplyRateLimited,
    ReplyRejected,
    ReplyTarget,
    ReplyUnavailable,
    http_call,
    json_of,
    same_text,
    too_long,
)
from monitor.sources._ratelimit import RateLimitGate
from monitor.sources.base import AuthFailed, RateLimited, SourceError
from monitor.sources.http import make_client
from monitor.sources.reddit import WEB_BASE, RedditSettings, RedditSource, rate_limit_headers

LIMIT = 10_000
_WAIT = re.compile(r"(\d+)\s*(second|minute|hour)", re.IGNORECASE)
_UNIT = {"second": 1, "minute": 60, "hour": 3600}
# Error codes that mean "this comment will never be accepted": say why, do not retry.
_DELETED = {"DELETED_COMMENT", "DELETED_LINK", "NO_LINK", "NOT_FOUND"}
_NOT_ALLOWED = {"THREAD_LOCKED", "TOO_OLD", "BANNED_FROM_SUBREDDIT", "SUBREDDIT_NOTALLOWED", "USER_BLOCKED"}
HINTS = {
    403: "the account may be suspended or banned from this subreddit; check it on reddit.com",
    404: "the post or comment no longer exists; nothing was posted",
}


def _wait_of(message: str) -> float:
    m = _WAIT.search(message)
    return float(m.group(1)) * _UNIT[m.group(2).lower()] if m else 60.0


class RedditReplier(Replier):
    platform: ClassVar[str] = "reddit"
    guarantee: ClassVar[str] = (
        "at most once in practice: no idempotency key, so after an interrupted or unanswered send the "
        "account's newest comments are searched for this reply before sending again"
    )

    def __init__(
        self,
        name: str,
        settings: RedditSettings,
        brand: Any,
        *,
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.username = settings.username
        self.source = RedditSource(name, settings, brand, transport=transport)
        self.client = make_client(self.source.api_base or "https://oauth.reddit.com", timeout, transport)
        self.gate = RateLimitGate(name, rate_limit_headers)
        self.client.event_hooks["response"] = [self.gate.observe]

    @classmethod
    def check(cls, text: str, target: ReplyTarget) -> list[str]:
        problems = []
        if len(text) > LIMIT:
            problems.append(too_long(LIMIT, len(text), "characters"))
        if not target.external_id.startswith(("t1_", "t3_")):
            problems.append(
                f"{target.external_id!r} is not a post (t3_) or comment (t1_) name; only those get replies"
            )
        return problems

    def post(self, text: str, target: ReplyTarget, key: str) -> Posted:
        response = self._call(
            "POST",
            "/api/comment",
            data={"api_type": "json", "thing_id": target.external_id, "text": text, "raw_json": "1"},
        )
        body = json_of(response, self.name)
        result = body.get("json") if isinstance(body, dict) else None
        if not isinstance(result, dict):
            raise ReplyAmbiguous(f"{self.name}: /api/comment answered without a 'json' object")
        errors = [e for e in result.get("errors") or [] if isinstance(e, list) and e]
        if errors:
            self._raise(errors)
        things = (result.get("data") or {}).get("things") or []
        if not things:
            # 200, no error, nothing created: PRAW sees this too; look before trying again.
            raise ReplyAmbiguous(f"{self.name}: Reddit accepted the request but returned no comment")
        data = things[0].get("data") or {}
        return Posted(str(data.get("name") or f"t1_{data.get('id')}"), _url(data))

    def find_existing(self, text: str, target: ReplyTarget, key: str) -> Posted | None:
        response = self._call(
            "GET", f"/user/{self.username}/comments", params={"sort": "new", "limit": "50", "raw_json": "1"}
        )
        body = json_of(response, self.name)
        for child in ((body or {}).get("data") or {}).get("children") or []:
            data = (child or {}).get("data") or {}
            if data.get("parent_id") == target.external_id and same_text(text, str(data.get("body", ""))):
                return Posted(str(data.get("name")), _url(data))
        return None

    def close(self) -> None:
        self.client.close()
        self.source.close()

    # -- calls ----------------------------------------------------------
    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        for attempt in (1, 2):
            try:
                token = self.source.access_token(fresh=attempt == 2)
            except RateLimited as exc:
                raise ReplyRateLimited(str(exc), reset_at=exc.reset_at) from exc
            except AuthFailed as exc:
                raise ReplyAuthFailed(f"{exc}; fix it, then `mention-monitor replies --retry ID`") from exc
            except SourceError as exc:
                raise ReplyUnavailable(str(exc)) from exc
            try:
                return http_call(
                    self.client,
                    self.gate,
                    method,
                    path,
                    name=self.name,
                    reader=rate_limit_headers,
                    hints=HINTS,
                    headers={"Authorization": f"bearer {token}", "User-Agent": self.source.user_agent},
                    **kw,
                )
            except ReplyAuthFailed:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _raise(self, errors: list[list[Any]]) -> None:
        code = str(errors[0][0])
        message = str(errors[0][1]) if len(errors[0]) > 1 else code
        if code == "RATELIMIT":
            raise ReplyRateLimited(
                f"{self.name}: Reddit says {message!r}",
                reset_at=datetime.now(UTC) + timedelta(seconds=_wait_of(message)),
            )
        if code in _DELETED:
            raise ReplyRejected(
                f"{self.name}: the post or comment was deleted ({code}: {message}); nothing was posted"
            )
        if code in _NOT_ALLOWED:
            raise ReplyRejected(f"{self.name}: replies are not allowed there ({code}: {message})")
        raise ReplyRejected(f"{self.name}: Reddit refused the comment ({code}: {message})")


def _url(data: dict[str, Any]) -> str | None:
    permalink = data.get("permalink")
    if isinstance(permalink, str) and permalink:
        return WEB_BASE + permalink
    link, cid = str(data.get("link_id") or ""), data.get("id")
    if link.startswith("t3_") and cid:
        return f"{WEB_BASE}/comments/{link[3:]}/_/{cid}/"
    return None
