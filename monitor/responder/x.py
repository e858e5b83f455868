"""X replies: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``, through tweepy's ``create_tweet``.

Posting needs a *user* context (``responder.x``: an OAuth 2.0 user access token
with ``tweet.write``, or the four OAuth 1.0a keys); the source's app-only bearer
token can only read, and X answers 403 "Unsupported Authentication" to it. The
host is rewritten to the source's ``api_base`` the way :mod:`monitor.sources.x`
does it. Self-serve X tiers may reply only to posts that mention or quote the
account: that 403 is a specific, final error on the mention, never retried.

No idempotency key exists; X itself refuses an identical post ("duplicate
content"), and before a re-send the account's newest posts are searched for a
reply to the same post with the same text.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
import tweepy

from monitor.responder.base import (
    Posted,
    Replier,
    ReplyAmbiguous,
    ReplyAuthFailed,
    ReplyRateLimited,
    ReplyRejected,
    ReplyTarget,
    ReplyUnavailable,
    same_text,
    too_long,
)
from monitor.sources.x import TWEEPY_HOST, XSettings, _HostAdapter, _reset_from, _short

LIMIT = 280
URL_WEIGHT = 23
_URL = re.compile(r"https?://\S+")
# twitter-text: these code point ranges weigh 1, everything else (CJK, emoji…) weighs 2.
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def weighted_length(text: str) -> int:
    """Length as X counts it: links 23, most Latin text 1 per character, CJK and emoji 2."""
    text = unicodedata.normalize("NFC", text)
    size = 0
    pos = 0
    for m in _URL.finditer(text):
        size += _weigh(text[pos : m.start()]) + URL_WEIGHT
        pos = m.end()
    return size + _weigh(text[pos:])


def _weigh(text: str) -> int:
    return sum(1 if any(lo <= ord(ch) <= hi for lo, hi in _LIGHT) else 2 for ch in text)


class XReplier(Replier):
    platform: ClassVar[str] = "x"
    guarantee: ClassVar[str] = (
        "at most once in practice: no idempotency key, so after an interrupted or unanswered send the "
        "account's newest posts are searched for this reply first; X also refuses an identical post"
    )

    @classmethod
    def from_config(cls, config: Any, source: str, *, transport: Any = None) -> XReplier:
        return cls(source, config.sources[source], config.responder.x, timeout=config.responder.send_timeout)

    def __init__(self, name: str, settings: XSettings, creds: Any, *, timeout: float = 20.0) -> None:
        self.name = name
        self.api_base = (settings.api_base or TWEEPY_HOST).rstrip("/")

        def secret(value: Any) -> str | None:
            return value.get_secret_value() if value is not None else None

        self.oauth1 = all(
            getattr(creds, k) is not None
            for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        )
        bearer = secret(creds.user_access_token) or (None if self.oauth1 else secret(settings.bearer_token))
        self.client = tweepy.Client(
            bearer_token=bearer,
            consumer_key=secret(creds.consumer_key),
            consumer_secret=secret(creds.consumer_secret),
            access_token=secret(creds.access_token),
            access_token_secret=secret(creds.access_token_secret),
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        self.client.session.mount(TWEEPY_HOST, _HostAdapter(self.api_base, timeout))
        self._me: str | None = None

    @classmethod
    def check(cls, text: str, target: ReplyTarget) -> list[str]:
        size = weighted_length(text)
        if size > LIMIT:
            return [too_long(LIMIT, size, "characters as X counts them (links 23, emoji and CJK 2)")]
        return []

    def post(self, text: str, target: ReplyTarget, key: str) -> Posted:
        try:
            response = self._call(
                "create_tweet",
                self.client.create_tweet,
                text=text,
                in_reply_to_tweet_id=target.external_id,
                user_auth=self.oauth1,
                posting=True,
            )
        except _Duplicate:
            found = self.find_existing(text, target, key)
            if found is not None:
                return found
            raise ReplyRejected(
                f"{self.name}: X refused the reply as duplicate content (the same text was posted before); "
                "change the wording"
            ) from None
        body = response.json()
        tid = str((body.get("data") or {}).get("id") or "")
        if not tid:
            raise ReplyAmbiguous(f"{self.name}: X answered without the new post's id")
        return Posted(tid, f"https://x.com/i/web/status/{tid}")

    def find_existing(self, text: str, target: ReplyTarget, key: str) -> Posted | None:
        me = self._account_id()
        response = self._call(
            "get_users_tweets",
            self.client.get_users_tweets,
            me,
            max_results=50,
            tweet_fields=["referenced_tweets", "conversation_id"],
            user_auth=self.oauth1,
        )
        for tweet in response.json().get("data") or []:
            refs = {(r.get("type"), r.get("id")) for r in tweet.get("referenced_tweets") or []}
            if ("replied_to", target.external_id) in refs and same_text(text, tweet.get("text", "")):
                return Posted(str(tweet["id"]), f"https://x.com/i/web/status/{tweet['id']}")
        return None

    def close(self) -> None:
        self.client.session.close()

    def _account_id(self) -> str:
        if self._me is None:
            body = self._call("get_me", self.client.get_me, user_auth=self.oauth1).json()
            self._me = str((body.get("data") or {}).get("id") or "")
            if not self._me:
                raise ReplyUnavailable(f"{self.name}: X users/me answered without an id")
        return self._me

    def _call(
        self, what: str, method: Any, *args: Any, posting: bool = False, **kw: Any
    ) -> requests.Response:
        where = f"{self.name}: X {what}"
        try:
            return method(*args, **kw)
        except tweepy.TooManyRequests as exc:
            reset_at, _ = _reset_from(exc.response, datetime.now(UTC))
            raise ReplyRateLimited(f"{where}: rate limited (HTTP 429)", reset_at=reset_at) from exc
        except tweepy.Unauthorized as exc:
            raise ReplyAuthFailed(
                f"{where}: credentials refused ({_short(exc)}); the user access token expired or was "
                "revoked — renew responder.x credentials, then `mention-monitor replies --retry ID`"
            ) from exc
        except tweepy.Forbidden as exc:
            raise _forbidden(where, exc) from exc
        except tweepy.NotFound as exc:
            raise ReplyRejected(f"{where}: the post no longer exists (HTTP 404); nothing was posted") from exc
        except tweepy.TwitterServerError as exc:
            kind = ReplyAmbiguous if posting else ReplyUnavailable
            raise kind(f"{where}: server error ({_short(exc)})") from exc
        except tweepy.HTTPException as exc:
            raise ReplyRejected(f"{where}: request refused ({_short(exc)})") from exc
        except requests.ConnectionError as exc:
            if isinstance(exc, requests.ConnectTimeout) or not posting:
                raise ReplyUnavailable(f"{where}: cannot connect ({type(exc).__name__})") from exc
            raise ReplyAmbiguous(f"{where}: the connection dropped before X answered") from exc
        except requests.Timeout as exc:
            kind = ReplyAmbiguous if posting else ReplyUnavailable
            raise kind(f"{where}: no answer within the timeout") from exc


class _Duplicate(ReplyRejected):
    """X refused an identical post: ours may already be there."""


def _forbidden(where: str, exc: tweepy.Forbidden) -> ReplyRejected | ReplyAuthFailed:
    text = _short(exc)
    low = text.lower()
    if "not been mentioned or otherwise engaged" in low or "reply to this conversation is not allowed" in low:
        return ReplyRejected(
            f"{where}: X does not allow this reply — on self-serve API tiers the account may only reply to "
            "posts that mention or quote it, and this one does not. Reply from the X app, or use an API "
            "tier that allows it."
        )
    if "duplicate content" in low:
        return _Duplicate(f"{where}: {text}")
    if "deleted or not visible" in low:
        return ReplyRejected(
            f"{where}: the post was deleted or is not visible to the account; nothing was posted"
        )
    if "suspended" in low or "locked" in low:
        return ReplyRejected(f"{where}: the account is suspended or locked ({text}); resolve it on X first")
    if "unsupported authentication" in low or "application-only" in low:
        return ReplyAuthFailed(
            f"{where}: posting needs a user context, not the app-only bearer token; set "
            "responder.x.user_access_token (OAuth 2.0 with tweet.write) or the four OAuth 1.0a keys"
        )
    return ReplyRejected(f"{where}: X refused the reply ({text})")
