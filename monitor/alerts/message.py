"""Alert messages: what an agent reads on a phone, made safe and rendered per target format.

A :class:`Message` is a title plus lines of :class:`Span` s; spans marked
``untrusted`` (mention text, handles, names, error strings from remote
servers) are neutralised so they cannot ping (``@channel``, ``<!here>``,
Discord ``<@&role>``), inject markup or clickable links that look like ours,
or break the message layout. :func:`render` turns a message into a
(title, body) pair for one of Apprise's body formats and fits it into the
target's length limits by trimming the quoted mention text first.
Everything here is pure: values in, strings out.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Format = Literal["text", "markdown", "html"]
Style = Literal["plain", "bold", "link", "quote"]

ELLIPSIS = "…"
# Keep a margin under the service's limit: Apprise adds its own separators/title.
_MARGIN = 16

# Bidirectional overrides and invisible format characters let a post reorder or hide what an agent sees.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# A mention of a user/group/role/everyone: "@here", "@everyone", "@room", "@someone", "@&123" (Discord role).
_AT = re.compile(r"@(?=\S)")
# Anything that chat clients autolink: a scheme, or a host name such as "acme-support.com".
_SCHEME = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{1,15}):(//|[A-Za-z0-9])", re.IGNORECASE)
_HOST = re.compile(r"\b((?:[A-Za-z0-9-]+\.)+)([A-Za-z]{2,24})\b")
_LT_ENTITY = re.compile(r"&(?:lt|#0*60|#x0*3c);?", re.IGNORECASE)
_GT_ENTITY = re.compile(r"&(?:gt|#0*62|#x0*3e);?", re.IGNORECASE)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def neutralize(text: str) -> str:
    """Make untrusted text inert in every format, keeping it readable.

    * control and invisible characters go (newlines and tabs stay);
    * ``<`` and ``>`` become ``‹ ›``: no Slack ``<!channel>``/``<url|label>``, no Discord
      ``<@&role>``/``<@id>``, no HTML tag survives in any service;
    * ``@`` gets a zero-width space after it, so ``@everyone`` and ``@someone`` do not notify;
    * URLs and host names are defanged (``hxxps``, ``[.]``) so no clickable link in an alert
      comes from the post — ours are the only links.
    """
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text).replace(
        "\t", " "
    )
    # Entity-encoded brackets too: some targets decode "&lt;!channel&gt;" back into a ping.
    text = _LT_ENTITY.sub("‹", _GT_ENTITY.sub("›", text))
    text = text.replace("<", "‹").replace(">", "›")
    text = _SCHEME.sub(_defang_scheme, text)
    text = _HOST.sub(lambda m: m.group(1).replace(".", "[.]") + m.group(2), text)
    text = _AT.sub("@\u200b", text)
    # "[label](url)" is a link even in "text" mode on Discord/Mattermost; a space unlinks it.
    text = re.sub(r"\]\s*\(", "] (", text)
    text = re.sub(r"[ \u00a0]{3,}", "  ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _defang_scheme(m: re.Match[str]) -> str:
    scheme = m.group(1)
    lowered = scheme.lower()
    if lowered in ("http", "https"):
        scheme = scheme[0] + "xx" + scheme[3:]  # the usual "hxxps" defang
    elif lowered in ("mailto", "tel", "javascript", "data", "ftp", "file", "slack", "discord", "tg"):
        scheme = scheme + "[:]"
        return scheme + m.group(2)
    return f"{scheme}:{m.group(2)}"


def trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary when one is near, ending in ``…``."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.7:
        cut = cut[:space]
    # Never leave half a surrogate pair or a dangling combining mark.
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a line. ``untrusted`` text is neutralised; ``link`` needs a URL we built."""

    text: str
    style: Style = "plain"
    url: str | None = None
    untrusted: bool = False


Line = tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered-per-target alert. ``quote`` is the trimmable mention text (untrusted)."""

    title: tuple[Span, ...]
    lines: tuple[Line, ...] = ()
    quote: str | None = None
    quote_after: int = 1  # the quote goes after this many lines
    notify_type: Literal["info", "success", "warning", "failure"] = "warning"
    tail: tuple[Line, ...] = field(default=())


def plain(text: str) -> Span:
    return Span(text)


def untrusted(text: str | None, style: Style = "plain") -> Span:
    return Span(text or "", style, untrusted=True)


def render(
    message: Message,
    fmt: Format,
    *,
    body_maxlen: int = 32768,
    title_maxlen: int = 250,
    quote_limit: int = 600,
) -> tuple[str, str]:
    """``(title, body)`` for ``fmt``, within the target's limits (quoted text is trimmed first)."""
    title = _render_title(message.title, fmt, title_maxlen)
    budget = max(body_maxlen - _MARGIN, min(body_maxlen, 80))
    quote = neutralize(message.quote) if message.quote is not None else None
    limit = min(quote_limit, len(quote)) if quote is not None else 0
    while True:
        body = _render_body(message, fmt, trim(quote, limit) if quote is not None else None)
        if len(body) <= budget:
            return title, body
        if quote is not None and limit > 40:
            # Escaping can grow the text; shrink the quote and try again.
            limit = max(40, limit - max(len(body) - budget, limit // 8))
            continue
        return title, _cut_lines(body, budget, fmt)


def _render_title(spans: tuple[Span, ...], fmt: Format, limit: int) -> str:
    # Titles are shown as plain text (subject lines, notification headers): no markup at all,
    # but Apprise converts a markdown/html body's title along with it, so escape for the format.
    raw = " ".join(
        s for s in ((neutralize(sp.text) if sp.untrusted else sp.text) for sp in spans) if s
    ).replace("\n", " ")
    raw = trim(raw, max(limit, 10))
    if fmt == "html":
        # Services use the title raw: as an e-mail Subject (where "&amp;" would show) and inside
        # HTML (where a bare "&" may break parsing). ‹ › already replaced < >; a full-width ＆
        # is inert in both.
        return raw.replace("&", "＆")
    if fmt == "markdown":
        return _md_escape(raw)
    return raw


def _render_body(message: Message, fmt: Format, quote: str | None) -> str:
    rendered = [_render_line(line, fmt) for line in message.lines]
    if quote is not None:
        rendered.insert(min(message.quote_after, len(rendered)), _render_quote(quote, fmt))
    rendered.extend(_render_line(line, fmt) for line in message.tail)
    sep = "<br/>\n" if fmt == "html" else "\n"
    return sep.join(r for r in rendered if r is not None)


def _render_line(line: Line, fmt: Format) -> str:
    return "".join(_render_span(sp, fmt) for sp in line)


def _render_span(span: Span, fmt: Format) -> str:
    text = neutralize(span.text) if span.untrusted else span.text
    if span.style == "link" and span.url and _safe_url(span.url):
        if fmt == "html":
            return f'<a href="{html.escape(span.url, quote=True)}">{html.escape(text, quote=False)}</a>'
        if fmt == "markdown":
            return f"[{_md_escape(text)}](<{span.url}>)"
        return f"{text}: {span.url}"
    if fmt == "html":
        out = html.escape(text, quote=False).replace("\n", "<br/>")
        return f"<b>{out}</b>" if span.style == "bold" else out
    if fmt == "markdown":
        out = _md_escape(text)
        return f"**{out}**" if span.style == "bold" and out else out
    return text


def _render_quote(text: str, fmt: Format) -> str:
    if fmt == "html":
        return "<blockquote>" + html.escape(text, quote=False).replace("\n", "<br/>") + "</blockquote>"
    if fmt == "markdown":
        return "\n".join("> " + (_md_escape(line) or " ") for line in text.split("\n"))
    return "\n".join("│ " + line for line in text.split("\n"))


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _safe_url(url: str) -> bool:
    # Our links only: http(s), no whitespace or characters that end a markdown/HTML link early.
    return bool(re.fullmatch(r"https?://[^\s<>()\"'`\\]+", url))


def _cut_lines(body: str, budget: int, fmt: Format) -> str:
    # Last resort for a very small limit: keep whole lines so no markup is cut in half.
    sep = "<br/>\n" if fmt == "html" else "\n"
    kept: list[str] = []
    size = 0
    for line in body.split(sep):
        if size + len(line) + len(sep) > budget - 1:
            break
        kept.append(line)
        size += len(line) + len(sep)
    return sep.join(kept) + (sep if kept else "") + ELLIPSIS
