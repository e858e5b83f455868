"""Bluesky replies: an ``app.bsky.feed.post`` record with reply refs, created in the account's repo.

* ``reply.parent`` is the mention (uri + cid) and ``reply.root`` the thread's
  first post (from the mention's own reply refs, else the mention itself);
* facets mark @-mentions (with the DID) and links, with **UTF-8 byte** offsets;
* the text may have at most 300 graphemes (what people see as characters: a flag
  emoji or an accented letter typed as two code points counts once).

The thread is read first (``getPostThread``): a deleted post, one whose author
blocks us, or one with replies turned off is refused without posting. AT
Protocol has no idempotency key, so before a re-send the thread's replies are
searched for a post by us with the same text. The session is the source's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import regex

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
from monitor.sources.bluesky import TOKEN_ERRORS, BlueskySettings, BlueskySource, read_rate_limit
from monitor.sources.http import make_client

GRAPHEMES = 300
MAX_BYTES = 3000
POST = "app.bsky.feed.post"
# A handle is a domain name; a trailing dot or comma is punctuation, not part of it.
_HANDLE = re.compile(
    r"(?<![\w@])@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*)"
)
_LINK = re.compile(r"https?://[^\s<>\"']+")


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def _byte_span(text: str, start: int, end: int) -> dict[str, int]:
    return {"byteStart": len(text[:start].encode("utf-8")), "byteEnd": len(text[:end].encode("utf-8"))}


def facets(text: str, dids: dict[str, str]) -> list[dict[str, Any]]:
    """Mention and link facets for ``text``; ``dids`` maps known handles (lower case) to DIDs.

    Handles without a DID get no facet (they stay plain text rather than point at nobody).
    """
    out: list[dict[str, Any]] = []
    for m in _HANDLE.finditer(text):
        did = dids.get(m.group(1).lower())
        if did:
            out.append(
                {
                    "index": _byte_span(text, m.start(), m.end()),
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
                }
            )
    for m in _LINK.finditer(text):
        url = m.group(0).rstrip(".,;:!?)")
        out.append(
            {
                "index": _byte_span(text, m.start(), m.start() + len(url)),
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return sorted(out, key=lambda f: f["index"]["byteStart"])


def _ref(view: dict[str, Any]) -> dict[str, str]:
    return {"uri": str(view["uri"]), "cid": str(view["cid"])}


class BlueskyReplier(Replier):
    platform: ClassVar[str] = "bluesky"
    guarantee: ClassVar[str] = (
        "at most once in practice: no idempotency key, so after an interrupted or unanswered send the "
        "thread's replies are searched for our post with the same text before sending again"
    )

    def __init__(
        self,
        name: str,
        settings: BlueskySettings,
        brand: Any,
        *,
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.source = BlueskySource(name, settings, brand, transport=transport)
        self.client = make_client(self.source.api_base or "https://bsky.social", timeout, transport)
        self.gate = RateLimitGate(name, read_rate_limit)
        self.client.event_hooks["response"] = [self.gate.observe]

    @classmethod
    def check(cls, text: str, target: ReplyTarget) -> list[str]:
        problems = []
        count = graphemes(text)
        if count > GRAPHEMES:
            problems.append(too_long(GRAPHEMES, count, "graphemes (characters as Bluesky counts them)"))
        size = len(text.encode("utf-8"))
        if size > MAX_BYTES:
            problems.append(too_long(MAX_BYTES, size, "bytes of UTF-8"))
        return problems

    def post(self, text: str, target: ReplyTarget, key: str) -> Posted:
        thread = self._thread(target, depth=0)
        post = thread["post"]
        if (post.get("viewer") or {}).get("replyDisabled"):
            raise ReplyRejected(
                f"{self.name}: the author limited who can reply to this post and the account is not allowed; "
                "answer another way (a new post mentioning them)"
            )
        parent = _ref(post)
        record_reply = (post.get("record") or {}).get("reply") or {}
        root = record_reply.get("root") if isinstance(record_reply.get("root"), dict) else None
        did, _ = self.source.session()
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "reply": {"root": _ref(root) if root else parent, "parent": parent},
        }
        found = facets(text, self._dids(text, target))
        if found:
            record["facets"] = found
        langs = (post.get("record") or {}).get("langs")
        if isinstance(langs, list) and langs:
            record["langs"] = langs[:3]
        body = self._xrpc(
            "POST", "com.atproto.repo.createRecord", json={"repo": did, "collection": POST, "record": record}
        )
        if not isinstance(body, dict) or not body.get("uri"):
            raise ReplyAmbiguous(f"{self.name}: createRecord answered without the new post's uri")
        return Posted(str(body["uri"]), _web_url(str(body["uri"])))

    def find_existing(self, text: str, target: ReplyTarget, key: str) -> Posted | None:
        did, _ = self.source.session()
        thread = self._thread(target, depth=1)
        for reply in thread.get("replies") or []:
            post = (reply or {}).get("post") or {}
            if (post.get("author") or {}).get("did") != did:
                continue
            if same_text(text, str((post.get("record") or {}).get("text", ""))):
                return Posted(str(post["uri"]), _web_url(str(post["uri"])))
        return None

    def close(self) -> None:
        self.client.close()
        self.source.close()

    # -- calls ----------------------------------------------------------
    def _thread(self, target: ReplyTarget, *, depth: int) -> dict[str, Any]:
        try:
            body = self._xrpc(
                "GET",
                "app.bsky.feed.getPostThread",
                params={"uri": target.external_id, "depth": str(depth), "parentHeight": "0"},
            )
        except ReplyRejected as exc:
            if "NotFound" in str(exc):
                raise ReplyRejected(
                    f"{self.name}: the post was deleted (getPostThread: NotFound); nothing was posted"
                ) from exc
            raise
        thread = body.get("thread") if isinstance(body, dict) else None
        kind = (thread or {}).get("$type", "")
        if kind.endswith("#notFoundPost"):
            raise ReplyRejected(f"{self.name}: the post was deleted; nothing was posted")
        if kind.endswith("#blockedPost"):
            raise ReplyRejected(
                f"{self.name}: the author blocks the account (or it blocks them); a reply cannot be posted"
            )
        if not isinstance(thread, dict) or not isinstance(thread.get("post"), dict):
            raise ReplyUnavailable(f"{self.name}: getPostThread answered without the post")
        return thread

    def _dids(self, text: str, target: ReplyTarget) -> dict[str, str]:
        known: dict[str, str] = {}
        author = target.raw.get("author") if isinstance(target.raw.get("author"), dict) else {}
        if author.get("handle") and author.get("did"):
            known[str(author["handle"]).lower()] = str(author["did"])
        for m in _HANDLE.finditer(text):
            handle = m.group(1).lower()
            if handle in known:
                continue
            try:
                body = self._xrpc("GET", "com.atproto.identity.resolveHandle", params={"handle": handle})
            except ReplyRejected:
                continue  # not a handle after all ("@example.com" in prose): left as plain text
            if isinstance(body, dict) and body.get("did"):
                known[handle] = str(body["did"])
        return known

    def _xrpc(self, method: str, nsid: str, **kw: Any) -> Any:
        """One XRPC call with the session; an expired access token is renewed once."""
        for attempt in (1, 2):
            try:
                _, access = self.source.session()
            except RateLimited as exc:
                raise ReplyRateLimited(str(exc), reset_at=exc.reset_at) from exc
            except AuthFailed as exc:
                raise ReplyAuthFailed(
                    f"{exc}; if the account was taken down or the app password revoked, fix it on "
                    "Bluesky and in the config, then `mention-monitor replies --retry ID`"
                ) from exc
            except SourceError as exc:
                raise ReplyUnavailable(str(exc)) from exc
            try:
                response = http_call(
                    self.client,
                    self.gate,
                    method,
                    f"/xrpc/{nsid}",
                    name=self.name,
                    reader=read_rate_limit,
                    headers={"Authorization": f"Bearer {access}"},
                    **kw,
                )
            except (ReplyRejected, ReplyAuthFailed) as exc:
                if attempt == 1 and any(e in str(exc) for e in TOKEN_ERRORS):
                    try:
                        self.source.renew_session()
                    except SourceError as renew_exc:
                        raise ReplyAuthFailed(
                            f"{self.name}: the session expired and could not be renewed ({renew_exc}); check "
                            "the app password"
                        ) from renew_exc
                    continue
                raise
            return json_of(response, self.name)
        raise AssertionError("unreachable")


def _web_url(uri: str) -> str:
    """``at://did/app.bsky.feed.post/rkey`` → ``https://bsky.app/profile/did/post/rkey``."""
    did, _, rest = uri.removeprefix("at://").partition("/")
    return f"https://bsky.app/profile/{did}/post/{rest.rsplit('/', 1)[-1]}"
