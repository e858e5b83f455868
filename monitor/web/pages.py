"""Rendering: the Jinja2 environment (autoescaped), the filters that make mention data inert, flash notes.

Everything that comes from a mention is untrusted. Autoescaping turns ``<script>``
into text; :func:`inert` also shows bidirectional-override characters as visible
markers (so ``‮`` cannot reverse a line), and only ``http(s)`` URLs ever become
links (:func:`safe_url`, :func:`linkify`) — ``javascript:`` stays text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from monitor.web.context import WebContext

TEMPLATES = Path(__file__).with_name("templates")

# Bidi embedding/override/isolate controls and other invisible formatting characters.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\u200b-\u200d\u2060\ufeff]")
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)


def _visible(match: re.Match[str]) -> str:
    return f"⟨U+{ord(match.group(0)):04X}⟩"


def inert(value: Any) -> Markup:
    """Escaped text with invisible direction/format controls shown as ``⟨U+202E⟩``."""
    if value is None:
        return Markup("")
    return escape(_BIDI.sub(_visible, str(value)))


def safe_url(value: Any) -> str | None:
    """The URL when it is plain http(s) with a host, else None (never a javascript:/data: link)."""
    if not value:
        return None
    text = str(value).strip()
    if _BIDI.search(text) or any(ord(c) < 32 for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return text


def linkify(value: Any) -> Markup:
    """Inert text where each http(s) URL becomes a link that opens outside (no referrer, no follow)."""
    if value is None:
        return Markup("")
    text = str(value)
    out: list[Markup] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]}")
        end = match.start() + len(url)
        out.append(inert(text[last : match.start()]))
        href = safe_url(url)
        if href:
            out.append(
                Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(
                    href, inert(url)
                )
            )
        else:
            out.append(inert(url))
        last = end
    out.append(inert(text[last:]))
    return Markup("").join(out)


def ago(ts: datetime | None, now: datetime) -> str:
    if ts is None:
        return "—"
    secs = int((now - ts).total_seconds())
    if secs < 0:
        return "just now"
    if secs < 60:
        return f"{secs}s ago"
    if secs < 3600:
        return f"{secs // 60}m ago"
    if secs < 86400:
        return f"{secs // 3600}h ago"
    return f"{secs // 86400}d ago"


def reach(n: int | None) -> str:
    if n is None:
        return "—"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 100_000:
        return f"{n // 1000}k"
    if n >= 1000:
        return f"{n / 1000:.1f}".removesuffix(".0") + "k"
    return str(n)


def when(ts: datetime | None) -> str:
    return f"{ts:%Y-%m-%d %H:%M} UTC" if ts else "—"


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(inert=inert, safe_url=safe_url, linkify=linkify, reach=reach, when=when)
    return env


ENV = build_environment()


def add_template_folder(folder: Path) -> None:
    """Let a router (e.g. reports) keep its templates next to it; they can extend ``base.html``."""
    loader = ENV.loader
    assert isinstance(loader, FileSystemLoader)
    if str(folder) not in loader.searchpath:
        loader.searchpath.append(str(folder))


# -- flash notes: a one-shot signed cookie carrying "done" / "refused" after a redirect


def _flash_mac(secret: bytes, payload: str) -> str:
    return hmac.new(secret, f"flash:{payload}".encode(), hashlib.sha256).hexdigest()[:24]


def set_flash(response: Response, ctx: WebContext, kind: str, text: str) -> None:
    payload = base64.urlsafe_b64encode(json.dumps([kind, text[:500]]).encode()).decode()
    response.set_cookie(
        "mm_flash",
        f"{payload}.{_flash_mac(ctx.secret, payload)}",
        max_age=60,
        httponly=True,
        samesite="lax",
        secure=ctx.https,
        path="/",
    )


def _pop_flash(request: Request, ctx: WebContext) -> tuple[str, str] | None:
    raw = request.cookies.get("mm_flash")
    if not raw or "." not in raw:
        return None
    payload, mac = raw.rsplit(".", 1)
    if not hmac.compare_digest(mac, _flash_mac(ctx.secret, payload)):
        return None
    try:
        kind, text = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):
        return None
    return str(kind), str(text)


def render(
    request: Request,
    ctx: WebContext,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    user: Any = None,
    message: tuple[str, str] | None = None,
) -> HTMLResponse:
    """A full page; ``message`` (kind, text) is shown above the content (else a pending flash note)."""
    from monitor.web.csrf import csrf_token

    flash = _pop_flash(request, ctx)
    now = ctx.clock()
    values = {
        "request": request,
        "user": user,
        "nav": ctx.nav,
        "now": now,
        "ago": lambda ts: ago(ts, now),
        "csrf": csrf_token(request, ctx, user),
        "message": message or flash,
        "brand": ", ".join(ctx.config.brand.names) if hasattr(ctx.config.brand, "names") else "",
        "query": lambda **kw: urlencode({k: v for k, v in kw.items() if v not in (None, "")}),
        **(context or {}),
    }
    html = ENV.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    if flash:
        response.delete_cookie("mm_flash", path="/")
    return response
