"""Fake platforms that publish marked brand mentions and misbehave on demand.

:class:`Platforms` starts fake Mastodon, Hacker News and Bluesky servers (the ones in
``tests/fakes``, speaking each API as the real one does), publishes mentions whose text
carries a unique token (``mmtok0000042``) and remembers when each became visible.
:class:`Faults` wraps one fake's dispatch: for a time window every request gets the
injected fault instead of the real answer — a 429 storm with the platform's own
reset headers, a 5xx, a response slower than the client's timeout, a cut-off transfer,
malformed JSON, or an HTML error page served with status 200.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.bluesky import FakeBluesky
from tests.fakes.hackernews import FakeHackerNews, algolia_error
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer, Request, Response

TOKEN = re.compile(r"mmtok(\d{7})")
FAULT_KINDS = ("429", "5xx", "slow", "truncated", "malformed", "html200")
HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    "<body><h1>Our servers are busy</h1><p>Please try again later.</p></body></html>"
)

# Texts a support team sees; the token makes each one unique and traceable end to end.
TEXTS = (
    "Acme charged me twice for my order and support is not answering",
    "the Acme app keeps crashing since the update, this is unacceptable",
    "love the new Acme dashboard, great work",
    "anyone know if Acme ships to Canada?",
    "Acme refund still missing after three weeks, I want my money back",
    "Acme checkout is down again?? cannot pay",
    "thanks Acme support for the quick help today",
    "is Acme having an outage right now",
)


def quiet(server: FakeServer) -> None:
    """No traceback on stderr when a killed daemon drops its connection: that is the point of the run."""
    if server._server is not None:
        server._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]


def token(n: int) -> str:
    return f"mmtok{n:07d}"


def _rate_limited(platform: str, reset_in: float) -> Response:
    reset = datetime.now(UTC) + timedelta(seconds=reset_in)
    if platform == "mastodon":
        return Response(
            429,
            {"error": "Too many requests"},
            {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        )
    if platform == "bluesky":
        return Response(
            429,
            {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            {
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(int(reset.timestamp())),
                "RateLimit-Policy": "3000;w=300",
            },
        )
    response = algolia_error(429, "Too many requests")
    response.headers["Retry-After"] = str(max(1, int(reset_in)))
    return response


def fault_response(platform: str, kind: str, *, reset_in: float = 5.0, slow: float = 6.0) -> Response:
    """The answer a misbehaving ``platform`` gives instead of the real one."""
    if kind == "429":
        return _rate_limited(platform, reset_in)
    if kind == "5xx":
        return Response(503, {"error": "Service Unavailable"} if platform != "hackernews" else "")
    if kind == "slow":
        return Response(200, [] if platform == "mastodon" else {}, delay=slow)
    if kind == "truncated":
        body = '[{"id": "1", "type": "mention", "status": {"id": "2", "content": "<p>cut' * 4
        return Response(200, body, {"Content-Type": "application/json; charset=utf-8"}, truncate=40)
    if kind == "malformed":
        return Response(200, '{"hits": [{"objectID": "1",, ]', {"Content-Type": "application/json"})
    if kind == "html200":
        return Response(200, HTML_ERROR, {"Content-Type": "text/html; charset=utf-8"})
    raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")


class Faults:
    """Injects one kind of fault into every request to ``server`` until the window ends."""

    def __init__(self, server: FakeServer, platform: str, *, slow: float = 6.0) -> None:
        self.server = server
        self.platform = platform
        self.slow = slow
        self.kind: str | None = None
        self.until = 0.0
        self.reset_at = 0.0
        self.served = 0  # faults actually served
        self._lock = threading.Lock()
        self._real: Callable[[Request], Response] = server._dispatch
        server._dispatch = self._dispatch  # type: ignore[method-assign]

    def inject(self, kind: str, seconds: float) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self.kind, self.until = kind, time.monotonic() + seconds
            self.reset_at = time.time() + seconds

    def clear(self) -> None:
        with self._lock:
            self.kind, self.until = None, 0.0

    @property
    def active(self) -> str | None:
        with self._lock:
            if self.kind is not None and time.monotonic() >= self.until:
                self.kind = None
            return self.kind

    def _dispatch(self, req: Request) -> Response:
        kind = self.active
        if kind is None:
            return self._real(req)
        with self._lock:
            self.served += 1
        # A 429 names the end of the storm as its reset time, as the platform would.
        return fault_response(
            self.platform, kind, reset_in=max(1.0, self.reset_at - time.time()), slow=self.slow
        )


@dataclass
class Published:
    platform: str
    visible_at: float  # time.time() when the platform started serving it


@dataclass
class Platforms:
    """The fakes, what they published and their fault switches; use as a context manager."""

    kinds: tuple[str, ...] = ("mastodon", "hackernews", "bluesky")
    seed: int = 7
    published: dict[str, Published] = field(default_factory=dict)
    faults: dict[str, Faults] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stack = ExitStack()
        self._n = itertools.count(1)
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self.servers: dict[str, Any] = {}
        self._bsky_last = datetime.now(UTC)

    def __enter__(self) -> Platforms:
        for kind in self.kinds:
            if kind == "mastodon":
                server: Any = FakeMastodon(rate_limit=10**9)
            elif kind == "hackernews":
                server = FakeHackerNews()
            elif kind == "bluesky":
                server = FakeBluesky(rate_limit=10**9, login_limit=10**6)
            else:
                raise ValueError(f"no fake for platform {kind!r}")
            self._stack.enter_context(server)
            quiet(server)
            self.servers[kind] = server
            self.faults[kind] = Faults(server, kind)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    # -- config -------------------------------------------------------------------
    def source_name(self, kind: str) -> str:
        return f"bench_{kind}"

    def brand(self) -> dict[str, Any]:
        handles: dict[str, list[str]] = {"mastodon": ["acme"]}
        if "bluesky" in self.servers:
            handles["bluesky"] = [self.servers["bluesky"].handle]
        return {"names": ["Acme"], "handles": handles}

    def sources(self, *, interval: float = 10, timeout: float = 3.0, pages: int = 10) -> dict[str, Any]:
        """``sources:`` for the daemon's config, one per fake."""
        out: dict[str, Any] = {}
        for kind, server in self.servers.items():
            common = {"platform": kind, "interval": interval, "timeout": timeout, "max_pages_per_poll": pages}
            if kind == "mastodon":
                out[self.source_name(kind)] = {
                    **common,
                    "api_base": server.url,
                    "access_token": server.token,
                    "page_size": 80,
                }
            elif kind == "hackernews":
                out[self.source_name(kind)] = {
                    **common,
                    "api_base": server.api_base,
                    "hits_per_page": 1000,
                    "lookback_seconds": 86400,
                }
            else:
                out[self.source_name(kind)] = {
                    **common,
                    "api_base": server.url,
                    "handle": server.handle,
                    "app_password": server.password,
                    "search": False,
                }
        return out

    # -- content ------------------------------------------------------------------
    def publish(self, count: int, *, kinds: tuple[str, ...] | None = None) -> list[str]:
        """``count`` mentions spread round-robin over the platforms; returns their tokens."""
        out = []
        targets = kinds or tuple(self.servers)
        for i in range(count):
            kind = targets[i % len(targets)]
            with self._lock:
                n = next(self._n)
            tok = token(n)
            text = f"{self._rng.choice(TEXTS)} {tok}"
            author = f"customer{n}"
            server = self.servers[kind]
            # Recorded before the fake serves it: latency is measured from the earliest moment.
            with self._lock:
                self.published[tok] = Published(kind, time.time())
            if kind == "mastodon":
                server.add_mention(text, author=author)
            elif kind == "hackernews":
                server.add_story(f"Ask HN: {text}", author=author, url="", story_text=text)
            else:
                # The AppView pages notifications by indexedAt (ms) "strictly older than the cursor", so
                # posts sharing a millisecond at a page boundary are skipped by the platform itself;
                # a real account sees distinct milliseconds, and so does this one.
                with self._lock:
                    at = max(datetime.now(UTC), self._bsky_last + timedelta(milliseconds=1))
                    self._bsky_last = at
                server.add_mention(text, author=f"{author}.bsky.social", indexed_at=at)
            out.append(tok)
        return out

    def tokens(self) -> Iterator[str]:
        return iter(list(self.published))
