"""Mastodon replies: ``POST /api/v1/statuses`` with ``in_reply_to_id``, on the source's instance and token.

* visibility is the original's (``direct`` stays direct, ``private`` stays
  followers-only): a reply is never shown to more people than the post it answers;
* the author's handle is prefixed (a direct or private reply reaches only the
  accounts it mentions);
* every request carries ``Idempotency-Key`` (the reply's outbox key): Mastodon
  keeps it for an hour and answers a repeated request with the status it already
  made, so a re-send after a crash cannot post twice. Older than that, the thread
  (``/api/v1/statuses/:id/context``) is searched for our reply first.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import httpx

from monitor.responder.base import (
    Posted,
    Replier,
    ReplyAmbiguous,
    ReplyTarget,
    http_call,
    json_of,
    same_text,
    too_long,
)
from monitor.sources._ratelimit import RateLimitGate
from monitor.sources.http import make_client
from monitor.sources.mastodon import MastodonSettings, read_rate_limit
from monitor.sources.text import html_to_text

LIMIT = 500  # Mastodon's default; instances may allow more
URL_WEIGHT = 23  # every link counts as 23 characters
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"@([A-Za-z0-9_]+)@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Widest first: a reply takes the original's visibility, or narrower, never wider.
VISIBILITIES = ("public", "unlisted", "private", "direct")


def counted_length(text: str) -> int:
    """Length as Mastodon counts it: links are 23, ``@user@domain`` counts as ``@user``."""
    text = _URL.sub("x" * URL_WEIGHT, text)
    text = _MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(text)


def visibility_of(target: ReplyTarget) -> str:
    vis = str(target.raw.get("visibility") or "public")
    return vis if vis in VISIBILITIES else "direct"  # unknown: the narrowest


class MastodonReplier(Replier):
    platform: ClassVar[str] = "mastodon"
    # Mastodon keeps an Idempotency-Key for an hour (a little less, to be safe).
    idempotent_for: ClassVar[float | None] = 3300.0
    guarantee: ClassVar[str] = (
        "exactly once: Idempotency-Key on every send (kept by the server for an hour), "
        "and the thread is searched for our reply before any re-send"
    )

    @classmethod
    def from_config(cls, config: Any, source: str, *, transport: Any = None) -> MastodonReplier:
        return cls(source, config.sources[source], timeout=config.responder.send_timeout, transport=transport)

    def __init__(
        self,
        name: str,
        settings: MastodonSettings,
        *,
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.client = make_client(settings.api_base.rstrip("/"), timeout, transport)
        self.client.headers["Authorization"] = f"Bearer {settings.access_token.get_secret_value()}"
        self.gate = RateLimitGate(name, read_rate_limit)
        self.client.event_hooks["response"] = [
            lambda r: self.gate.observe(r, "post" if r.request.method == "POST" else "default")
        ]
        self._me: str | None = None

    @classmethod
    def prepare(cls, text: str, target: ReplyTarget) -> str:
        handle = "@" + target.author_handle.lstrip("@")
        if re.search(rf"(?<![\w@]){re.escape(handle)}(?![\w@.])", text, re.IGNORECASE):
            return text
        return f"{handle} {text}"

    @classmethod
    def check(cls, text: str, target: ReplyTarget) -> list[str]:
        size = counted_length(text)
        if size > LIMIT:
            return [too_long(LIMIT, size, "characters as Mastodon counts them")]
        return []

    def post(self, text: str, target: ReplyTarget, key: str) -> Posted:
        form = {"status": text, "in_reply_to_id": target.external_id, "visibility": visibility_of(target)}
        if target.raw.get("spoiler_text"):
            form["spoiler_text"] = str(target.raw["spoiler_text"])  # keep the content warning on the reply
        if target.raw.get("language"):
            form["language"] = str(target.raw["language"])
        response = self._request(
            "POST", "/api/v1/statuses", "post", data=form, headers={"Idempotency-Key": key}
        )
        body = self._json(response)
        if not isinstance(body, dict) or not body.get("id"):
            raise ReplyAmbiguous(f"{self.name}: POST /api/v1/statuses answered without a status id")
        return Posted(str(body["id"]), body.get("url") or body.get("uri"))

    def find_existing(self, text: str, target: ReplyTarget, key: str) -> Posted | None:
        me = self._account_id()
        response = self._request("GET", f"/api/v1/statuses/{target.external_id}/context", "default")
        body = self._json(response)
        for status in (body or {}).get("descendants") or []:
            if not isinstance(status, dict):
                continue
            if str((status.get("account") or {}).get("id")) != me:
                continue
            if str(status.get("in_reply_to_id")) != target.external_id:
                continue
            if same_text(text, html_to_text(status.get("content"))):
                return Posted(str(status["id"]), status.get("url") or status.get("uri"))
        return None

    def close(self) -> None:
        self.client.close()

    # -- HTTP -----------------------------------------------------------
    def _account_id(self) -> str:
        if self._me is None:
            body = self._json(self._request("GET", "/api/v1/accounts/verify_credentials", "default"))
            self._me = str((body or {}).get("id"))
        return self._me

    def _request(self, method: str, path: str, bucket: str, **kw: Any) -> httpx.Response:
        return http_call(
            self.client,
            self.gate,
            method,
            path,
            name=self.name,
            bucket=bucket,
            reader=read_rate_limit,
            hints=HINTS,
            **kw,
        )

    def _json(self, response: httpx.Response) -> Any:
        return json_of(response, self.name)


HINTS = {
    401: "the access token expired or was revoked: make a new one with write:statuses, put it in the "
    "config, then `mention-monitor replies --retry ID`",
    403: "the account may be suspended or disabled on the instance; check it there",
    404: "the post was deleted or is no longer visible to the account (its author may have blocked it); "
    "nothing was posted",
    422: "the instance refused the text (Mastodon localises this message)",
}
