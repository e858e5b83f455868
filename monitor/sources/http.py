"""HTTP plumbing shared by the httpx-based sources: one client factory, one error mapping.

Each platform reads its own rate-limit headers (they differ in name and unit) and
passes a reader; turning status codes, timeouts and bad bodies into the source
errors the scheduler understands happens here once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from monitor import __version__
from monitor.sources.base import AuthFailed, MalformedResponse, RateLimited, SourceUnavailable

USER_AGENT = f"mention-monitor/{__version__} (+https://pypi.org/project/mention-monitor/)"

# Reads a response's rate-limit headers: returns (remaining, reset_at) or (None, None).
RateLimitReader = Callable[[httpx.Response], tuple[float | None, datetime | None]]


def make_client(base_url: str, timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The client a source uses; tests and proxies change ``base_url`` or ``transport``."""
    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        transport=transport,
        follow_redirects=False,
    )


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (it may be seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    source: str,
    rate_limit: RateLimitReader | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; return the response if it is a success, else raise a source error.

    429 → :class:`RateLimited` (reset from the platform's headers, else
    ``Retry-After``); 401/403 → :class:`AuthFailed`; 5xx, timeouts and network
    errors → :class:`SourceUnavailable`; other 4xx → :class:`MalformedResponse`
    (our request was wrong: a config or code problem, not worth hammering).
    """
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(
            f"{source}: timed out after {client.timeout.read}s ({type(exc).__name__})"
        ) from exc
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"{source}: {type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status < 400:
        return response
    detail = _error_detail(response)
    if status == 429:
        reset_at = None
        if rate_limit is not None:
            _, reset_at = rate_limit(response)
        wait = retry_after_seconds(response)
        if reset_at is None and wait is not None:
            reset_at = datetime.now(UTC) + timedelta(seconds=wait)
        raise RateLimited(f"{source}: rate limited (HTTP 429{detail})", reset_at=reset_at, retry_after=wait)
    if status in (401, 403):
        raise AuthFailed(
            f"{source}: credentials refused (HTTP {status}{detail}); "
            "check the token or app keys in the config"
        )
    if status >= 500:
        raise SourceUnavailable(
            f"{source}: server error HTTP {status}{detail}", retry_after=retry_after_seconds(response)
        )
    raise MalformedResponse(
        f"{source}: request rejected, HTTP {status}{detail} for {method} {response.request.url.path}"
    )


def json_body(response: httpx.Response, *, source: str) -> Any:
    """The decoded JSON body, or :class:`MalformedResponse` saying what came instead."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        ctype = response.headers.get("content-type", "no content-type")
        snippet = response.text[:80].replace("\n", " ") if response.content else "empty body"
        raise MalformedResponse(
            f"{source}: expected JSON from {response.request.url.path}, got {ctype}: {snippet!r}"
        ) from exc


def _error_detail(response: httpx.Response) -> str:
    """A short platform error message for logs: ``': Not Found'`` or ``''``."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip().splitlines()[0][:120] if response.text.strip() else ""
        return f": {text}" if text and "<" not in text[:1] else ""
    if isinstance(body, dict):
        for key in ("detail", "message", "error_description", "error", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return f": {value[:160]}"
    return ""
