"""Bluesky source: the account's mention/reply/quote notifications and post search for brand terms, via XRPC.

Each ``fetch`` reads one page of one *stream* (``notifications`` or
``search:<term>``); the cursor lists the streams left in the current round.
Both endpoints return newest first and their cursors only page backwards, so
each stream is read with :mod:`monitor.sources._sweep`: a high-water mark on
``indexedAt`` plus the URIs seen inside the overlap window.

The session (access and refresh JWTs) lives in this object only, never in the
persisted cursor, which is stored in clear. It is created once with the app
password (``createSession`` has a small daily budget), renewed with
``refreshSession`` when the PDS answers ``ExpiredToken``, and recreated only if
the refresh token is no longer accepted.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr, field_validator

from monitor.brand import BrandSettings
from monitor.mention import Mention
from monitor.sources import _noise, _sweep
from monitor.sources._noise import NoiseScreen
from monitor.sources._polling import advance_round, round_todo
from monitor.sources._ratelimit import RateLimitGate
from monitor.sources.base import AuthFailed, Gap, MalformedResponse, Page, Source, SourceSettings
from monitor.sources.http import json_body, make_client, send

log = logging.getLogger(__name__)

NOTIFICATIONS = "notifications"
# Notification reasons that are a post aimed at the account; the rest (like,
# repost, follow, starterpack-joined, ...) are counted and skipped.
MENTION_REASONS = {"mention", "reply", "quote"}
CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
# The errors a PDS uses for an access (or refresh) token it no longer accepts;
# sent with 400 by older PDS versions and 401 by newer ones.
TOKEN_ERRORS = {"ExpiredToken", "InvalidToken"}
MAX_PAGE = 100


class BlueskySettings(SourceSettings):
    """``sources.<name>:`` for a Bluesky account (bsky.social or a self-hosted PDS)."""

    handle: str = Field(description="the account's handle (or email) to log in with")
    app_password: SecretStr = Field(description="an app password from Settings → Privacy and security")
    notifications: bool = Field(default=True, description="read mention, reply and quote notifications")
    search: bool = Field(default=True, description="search posts for the brand terms")
    search_api_base: str | None = Field(
        default=None,
        description="AppView for unauthenticated search (e.g. https://api.bsky.app); default: via api_base",
    )
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE)
    overlap: float = Field(
        default=600.0, ge=0, le=86400, description="seconds re-read below the high-water mark"
    )

    @field_validator("handle")
    @classmethod
    def _bare_handle(cls, value: str) -> str:
        value = value.strip().lstrip("@")
        if not value:
            raise ValueError("handle must not be empty (e.g. acme.bsky.social)")
        return value


class _TokenRejected(Exception):
    """The PDS refused the bearer token as expired or invalid: refresh, then retry once."""


def read_rate_limit(response: httpx.Response) -> tuple[float | None, datetime | None]:
    """``RateLimit-Remaining`` and ``RateLimit-Reset`` (epoch seconds)."""
    try:
        raw = response.headers.get("ratelimit-remaining")
        remaining = float(raw) if raw is not None else None
    except ValueError:
        remaining = None
    try:
        raw_reset = response.headers.get("ratelimit-reset")
        reset_at = datetime.fromtimestamp(float(raw_reset), UTC) if raw_reset else None
    except (ValueError, OverflowError, OSError):
        reset_at = None
    return remaining, reset_at


def _micros(stamp: str) -> int:
    """Sweep key of an ISO timestamp: epoch microseconds."""
    when = datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1_000_000)


def _from_micros(key: int) -> datetime:
    return datetime.fromtimestamp(key / 1_000_000, UTC)


def _did_of(uri: Any) -> str | None:
    """``at://did:plc:x/app.bsky.feed.post/rkey`` → ``did:plc:x``."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    return uri[len("at://") :].split("/", 1)[0] or None


def mentioned_handles(record: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The DIDs and handles a post @-mentions, from its facets.

    Facet ranges are UTF-8 *byte* offsets into the text, so the text is sliced
    as bytes (an emoji before the mention shifts character offsets, not bytes).
    """
    dids: set[str] = set()
    handles: set[str] = set()
    data = str(record.get("text") or "").encode("utf-8")
    for facet in record.get("facets") or []:
        if not isinstance(facet, dict):
            continue
        for feature in facet.get("features") or []:
            if not isinstance(feature, dict) or feature.get("$type") != "app.bsky.richtext.facet#mention":
                continue
            if isinstance(feature.get("did"), str):
                dids.add(feature["did"])
            index = facet.get("index") or {}
            start, end = index.get("byteStart"), index.get("byteEnd")
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data):
                handles.add(data[start:end].decode("utf-8", "replace").lstrip("@").lower())
    return dids, handles


class BlueskySource(Source):
    """Mentions of the brand on Bluesky: the account's notifications and a search per brand term."""

    platform: ClassVar[str] = "bluesky"
    Settings: ClassVar[type[SourceSettings]] = BlueskySettings
    default_api_base: ClassVar[str | None] = "https://bsky.social"

    def __init__(
        self,
        name: str,
        settings: BlueskySettings,
        brand: BrandSettings,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(name, settings, brand)
        self.settings: BlueskySettings = settings
        self._gate = RateLimitGate(name, read_rate_limit)
        self._client = make_client(self.api_base or "https://bsky.social", settings.timeout, transport)
        self._client.event_hooks["response"] = [self._on_response]
        self._search_client: httpx.Client | None = None
        if settings.search_api_base:
            self._search_client = make_client(
                settings.search_api_base.rstrip("/"), settings.timeout, transport
            )
            # Another host, another rate-limit window; and no session whose token could expire.
            self._search_client.event_hooks["response"] = [lambda r: self._gate.observe(r, "appview")]
        self._screen = NoiseScreen(brand, self.platform)
        self._own = brand.own_handles(self.platform)
        # Session state: in memory only (see the module docstring).
        self._access: str | None = None
        self._refresh: str | None = None
        self.did: str | None = None
        self._requests = 0

    # -- streams --------------------------------------------------------
    def streams(self) -> list[str]:
        names = [NOTIFICATIONS] if self.settings.notifications else []
        if self.settings.search:
            names += [f"search:{term}" for term in self.brand.terms]
        return names

    def fetch(self, cursor: dict[str, Any]) -> Page:
        streams = self.streams()
        if not streams:
            return Page([], dict(cursor), requests=0)
        todo = round_todo(cursor.get("todo"), streams)
        stream = todo[0]
        self._requests = 0
        page, again = self._read(stream, cursor.get(stream))
        page.requests = self._requests  # a login or refresh counts too
        states, rest = advance_round(cursor, todo, streams, stream, page.cursor, again)
        page.cursor = {**states, "todo": rest}
        page.more = bool(rest)
        return page

    def close(self) -> None:
        self._client.close()
        if self._search_client is not None:
            self._search_client.close()

    # -- the responder posts with the same session --------------------------
    def session(self) -> tuple[str, str]:
        """``(did, access token)`` of the account, logging in first when there is no session yet."""
        if self._access is None:
            self._login()
        return str(self.did or ""), str(self._access)

    def renew_session(self) -> None:
        """The access token was refused as expired: refresh it (or log in again)."""
        self._renew()

    # -- session --------------------------------------------------------
    def _on_response(self, response: httpx.Response) -> None:
        """Every response: note rate-limit headers; spot a rejected token before ``send`` maps the status."""
        nsid = response.request.url.path.rsplit("/", 1)[-1]
        self._gate.observe(response, "session" if nsid == CREATE_SESSION else "default")
        if response.status_code in (400, 401) and nsid != CREATE_SESSION:
            response.read()
            try:
                error = response.json().get("error")
            except (ValueError, AttributeError):
                return
            if error in TOKEN_ERRORS:
                raise _TokenRejected(error)

    def _send(self, client: httpx.Client, method: str, nsid: str, bucket: str = "default", **kw: Any) -> Any:
        self._gate.check(bucket)
        self.budget.spend(self.name)
        self._requests += 1
        response = send(client, method, f"/xrpc/{nsid}", source=self.name, rate_limit=read_rate_limit, **kw)
        return json_body(response, source=self.name)

    def _login(self) -> None:
        body = self._send(
            self._client,
            "POST",
            CREATE_SESSION,
            bucket="session",
            json={
                "identifier": self.settings.handle,
                "password": self.settings.app_password.get_secret_value(),
            },
        )
        self._take_session(body, CREATE_SESSION)

    def _take_session(self, body: Any, nsid: str) -> None:
        if not isinstance(body, dict) or not body.get("accessJwt") or not body.get("refreshJwt"):
            raise MalformedResponse(f"{self.name}: {nsid} answered without accessJwt/refreshJwt")
        self._access, self._refresh = str(body["accessJwt"]), str(body["refreshJwt"])
        self.did = str(body.get("did") or self.did or "") or None

    def _renew(self) -> None:
        """Refresh the session; log in again only if the refresh token is refused too."""
        if self._refresh:
            try:
                body = self._send(
                    self._client,
                    "POST",
                    REFRESH_SESSION,
                    headers={"Authorization": f"Bearer {self._refresh}"},
                )
                self._take_session(body, REFRESH_SESSION)
                return
            except (_TokenRejected, AuthFailed):
                log.info("%s: refresh token refused; creating a new session", self.name)
        self._access = self._refresh = None
        self._login()

    def _call(self, nsid: str, params: list[tuple[str, str]], *, search: bool = False) -> Any:
        """GET an XRPC query with the session, renewing it once if the token was rejected."""
        if search and self._search_client is not None:
            # The public AppView needs no session.
            return self._send(self._search_client, "GET", nsid, bucket="appview", params=params)
        for attempt in (1, 2):
            if self._access is None:
                self._login()
            try:
                return self._send(
                    self._client,
                    "GET",
                    nsid,
                    params=params,
                    headers={"Authorization": f"Bearer {self._access}"},
                )
            except _TokenRejected as exc:
                if attempt == 2:
                    raise AuthFailed(
                        f"{self.name}: {nsid} refused a fresh session token ({exc}); "
                        "check the PDS address in api_base and the host clock"
                    ) from exc
                self._renew()
        raise AssertionError("unreachable")

    # -- reading --------------------------------------------------------
    def _read(self, stream: str, raw: Any) -> tuple[Page, bool]:
        state = _sweep.SweepState.load(raw)
        limit = self.settings.page_size
        params: list[tuple[str, str]] = [("limit", str(limit))]
        if state.next is not None:
            params.append(("cursor", state.next))
        if stream == NOTIFICATIONS:
            body = self._call("app.bsky.notification.listNotifications", params)
            items_key, nsid = "notifications", "listNotifications"
        else:
            term = stream.removeprefix("search:")
            query = f'"{term}"' if any(c.isspace() for c in term) else term
            body = self._call(
                "app.bsky.feed.searchPosts", [("q", query), ("sort", "latest"), *params], search=True
            )
            items_key, nsid = "posts", "searchPosts"
        items = body.get(items_key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise MalformedResponse(f"{self.name}: {nsid} answered without a '{items_key}' array")
        next_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
        page = Page([], {}, items_read=len(items))
        usable = []
        for item in items:
            try:
                _micros(item["indexedAt"])
                str(item["uri"])
                usable.append(item)
            except (KeyError, TypeError, ValueError) as exc:
                self._malformed(page.skipped, nsid, item, exc)
        window = int(self.settings.overlap * 1_000_000)
        result = _sweep.step(
            state,
            usable,
            next_cursor,
            key=lambda i: _micros(i["indexedAt"]),
            ident=lambda i: str(i["uri"]),
            overlap=window,
            page_size=limit,
            now_key=int(time.time() * 1_000_000),
        )
        page.skipped[_noise.SEEN] += result.repeats
        for item in result.fresh:
            try:
                mention = (
                    self._from_notification(item, page.skipped)
                    if stream == NOTIFICATIONS
                    else self._from_post(
                        item, item["record"], page.skipped, require_term=True, addressed=False
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self._malformed(page.skipped, nsid, item, exc)
                continue
            if mention is not None:
                page.mentions.append(mention)
        if result.gap is not None:
            low, high = result.gap
            page.gaps.append(Gap(_from_micros(low), _from_micros(high), f"{nsid} stopped paging", None))
        page.cursor = result.state.dump()
        return page, result.more

    def _malformed(self, skipped: Counter[str], where: str, item: Any, exc: Exception) -> None:
        self.skip_malformed(skipped, where, item.get("uri") if isinstance(item, dict) else None, exc)

    def _from_notification(self, item: dict[str, Any], skipped: Counter[str]) -> Mention | None:
        reason = item["reason"]
        if reason not in MENTION_REASONS:
            skipped[_noise.REPOST if reason == "repost" else f"notification:{reason}"] += 1
            return None
        return self._from_post(item, item["record"], skipped, require_term=False, addressed=True)

    def _from_post(
        self,
        item: dict[str, Any],
        record: dict[str, Any],
        skipped: Counter[str],
        *,
        require_term: bool,
        addressed: bool,
    ) -> Mention | None:
        """A notification or a search hit: both carry ``uri``, ``author``, ``indexedAt`` and the record."""
        author = item["author"]
        handle = str(author["handle"])
        did = str(author["did"])
        text = str(record.get("text") or "")
        reason = self._screen.reason(author=handle, text=text, require_term=require_term)
        if did == self.did and reason != _noise.OWN:
            reason = _noise.OWN  # the handle may have changed; the DID has not
        if reason is not None:
            skipped[reason] += 1
            return None
        uri = str(item["uri"])
        rkey = uri.rsplit("/", 1)[-1]
        try:
            created = datetime.fromisoformat(str(record["createdAt"]))
        except (KeyError, ValueError):
            created = datetime.fromisoformat(
                item["indexedAt"]
            )  # createdAt is client-written; indexedAt is not
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        parent = (reply.get("parent") or {}).get("uri")
        root = (reply.get("root") or {}).get("uri")
        embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
        quoted = (embed.get("record") or {}).get("uri") if isinstance(embed.get("record"), dict) else None
        dids, handles = mentioned_handles(record)
        own_dids = {self.did} if self.did else set()
        aimed = bool(dids & own_dids or handles & self._own or {_did_of(parent), _did_of(quoted)} & own_dids)
        langs = record.get("langs")
        profile = handle if handle != "handle.invalid" else did
        return Mention(
            platform=self.platform,
            external_id=uri,
            text=text,
            created_at=created,
            author_handle=handle,
            url=f"https://bsky.app/profile/{profile}/post/{rkey}",
            author_id=did,
            author_name=author.get("displayName") or None,
            language=str(langs[0]) if isinstance(langs, list) and langs else None,
            in_reply_to_id=str(parent) if parent else None,
            conversation_id=str(root) if root else uri,
            addressed_to_brand=addressed or aimed,
            raw=item,
        )
