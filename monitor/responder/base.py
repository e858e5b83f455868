"""What every platform's reply call is: one :class:`Replier` per platform and a few well-named errors.

A replier turns (text, the mention replied to, an idempotency key) into one
platform request and returns the new post's id and URL. It never sleeps or
retries: it raises a :class:`ReplyError` saying whether trying again can help,
and :mod:`monitor.responder.sender` owns retries, back-off and bookkeeping.

``check`` runs *before* a reply is queued (length and format limits), and
``find_existing`` runs before any re-send: where the platform has no
idempotency key, a reply that may already have been accepted (the process died
mid-send, the answer timed out) is looked for in the thread first.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The mention being answered, as stored (``raw`` is the platform's own object)."""

    mention_id: int
    platform: str
    external_id: str
    author_handle: str
    url: str | None = None
    conversation_id: str | None = None
    in_reply_to_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Posted:
    """The platform accepted the reply: its id and public URL."""

    id: str
    url: str | None


class ReplyError(Exception):
    """The platform did not take the reply. ``retry``: trying again later may work.

    ``ambiguous``: the request may have been accepted (timeout, connection lost after
    sending); the sender looks for it in the thread before sending again.
    """

    retry: bool = False
    ambiguous: bool = False

    def __init__(self, message: str, *, reset_at: datetime | None = None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class ReplyRejected(ReplyError):
    """Permanent for this reply: deleted post, suspended/blocked account, not allowed to reply."""


class ReplyAuthFailed(ReplyError):
    """The credentials were refused (expired or revoked token); an operator must act, then retry."""


class ReplyRateLimited(ReplyError):
    """HTTP 429: wait until ``reset_at`` and try again (not counted as a failed attempt)."""

    retry = True


class ReplyUnavailable(ReplyError):
    """5xx or network trouble before the platform answered: try again with back-off."""

    retry = True


class ReplyAmbiguous(ReplyUnavailable):
    """The request went out but no answer came back: it may have been posted."""

    ambiguous = True


class ReplyNotSupported(ReplyRejected):
    """The platform has no reply API (Hacker News): nothing will ever be posted there."""


class Replier(ABC):
    """One platform's reply call, built from the same source settings (``api_base``, credentials)."""

    platform: ClassVar[str]
    # Said in docs/responder.md and `mention-monitor replies`: what a crash mid-send can do.
    guarantee: ClassVar[str] = ""
    # Seconds the platform honours an idempotency key; within them a re-send is safe as it is.
    idempotent_for: ClassVar[float | None] = None

    @classmethod
    def from_config(cls, config: Any, source: str, *, transport: Any = None) -> Replier:
        """The replier for the configured ``source``: its settings, the brand, the send timeout."""
        return cls(  # type: ignore[call-arg]
            source,
            config.sources[source],
            config.brand,
            timeout=config.responder.send_timeout,
            transport=transport,
        )

    @classmethod
    @abstractmethod
    def check(cls, text: str, target: ReplyTarget) -> list[str]:
        """Problems with ``text`` (already prepared) as a reply to ``target``; empty when it can go. Pure."""

    @classmethod
    def prepare(cls, text: str, target: ReplyTarget) -> str:
        """The text as it will be posted (e.g. the author's handle prefixed); pure."""
        return text

    @abstractmethod
    def post(self, text: str, target: ReplyTarget, key: str) -> Posted:
        """Post ``text`` (already prepared) as a reply; ``key`` is this reply's idempotency key."""

    def find_existing(self, text: str, target: ReplyTarget, key: str) -> Posted | None:
        """Our own reply with this text under ``target``, if the platform already has it."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def too_long(limit: int, size: int, unit: str) -> str:
    """ "the reply is 312 characters, 12 over X's limit of 280" — shared wording."""
    return (
        f"the reply is {size} {unit}, {size - limit} over the limit of {limit}; shorten it by {size - limit}"
    )


# -- the HTTP call shared by the httpx-based platforms (Mastodon, Bluesky, Reddit) -----------------


def http_call(
    client: Any,
    gate: Any,
    method: str,
    path: str,
    *,
    name: str,
    bucket: str = "default",
    reader: Any = None,
    hints: dict[int, str] | None = None,
    **kw: Any,
) -> Any:
    """One request through the source's rate-limit gate; non-2xx answers become :class:`ReplyError` s.

    ``hints`` adds the platform's advice per status (what 403 or 404 mean there). A timeout
    or a dropped connection on a POST is ambiguous: it may have been posted.
    """
    import httpx

    from monitor.sources.base import RateLimited
    from monitor.sources.http import retry_after_seconds

    try:
        gate.check(bucket)
    except RateLimited as exc:
        raise ReplyRateLimited(str(exc), reset_at=exc.reset_at) from exc
    try:
        response = client.request(method, path, **kw)
    except httpx.ConnectError as exc:
        raise ReplyUnavailable(f"{name}: cannot connect ({exc})") from exc
    except httpx.HTTPError as exc:
        kind = ReplyAmbiguous if method == "POST" else ReplyUnavailable
        raise kind(f"{name}: no complete answer ({type(exc).__name__}: {exc})") from exc
    status = response.status_code
    if status < 400:
        return response
    detail = error_detail(response)
    hint = (hints or {}).get(status, "")
    hint = f"; {hint}" if hint else ""
    if status == 429:
        reset_at = reader(response)[1] if reader is not None else None
        if reset_at is None:
            wait = retry_after_seconds(response)
            if wait is not None:
                from datetime import UTC, datetime, timedelta

                reset_at = datetime.now(UTC) + timedelta(seconds=wait)
        raise ReplyRateLimited(f"{name}: rate limited (HTTP 429: {detail})", reset_at=reset_at)
    if status == 401:
        raise ReplyAuthFailed(f"{name}: credentials refused (HTTP 401: {detail}){hint}")
    if status >= 500:
        raise ReplyUnavailable(f"{name}: server error HTTP {status}: {detail}")
    raise ReplyRejected(f"{name}: HTTP {status}: {detail}{hint}")


def json_of(response: Any, name: str) -> Any:
    """The JSON body; a 2xx without one is ambiguous (something was done, we cannot tell what)."""
    try:
        return response.json()
    except ValueError as exc:
        raise ReplyAmbiguous(
            f"{name}: expected JSON from {response.request.url.path}, got "
            f"{response.headers.get('content-type', 'no content-type')}"
        ) from exc


def error_detail(response: Any) -> str:
    """The platform's own error text: ``error``/``message``/``detail`` fields, else the body start."""
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return text.splitlines()[0][:160] if text and not text.startswith("<") else "no details"
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "message", "detail") if isinstance(body.get(k), (str, int))]
        if parts:
            return ": ".join(dict.fromkeys(parts))[:240]
    return "no details"


def same_text(ours: str, theirs: str) -> bool:
    """Is ``theirs`` (as the platform shows it) the reply we sent as ``ours``?

    Platforms rewrite a post: links shortened (X's t.co), @-mentions shown without the
    domain (Mastodon), whitespace and case in HTML. Compare what survives all of that.
    """
    import re

    def core(text: str) -> str:
        text = re.sub(r"https?://\S+", " ", text)
        text = re.sub(r"(?<!\w)@[\w.@-]+", " ", text)
        return " ".join(text.split()).casefold()

    return core(ours) == core(theirs)
