"""Reply templates: ``{variable}`` substitution that cannot inject or leave a placeholder behind.

Only bare names are allowed (no ``{x.attr}``, ``{x[0]}`` or format specs), each
value is filled in as plain text (a display name containing ``{brand}`` stays
literal), and values from the platform are cleaned: control characters and
line breaks go, ``@`` and links in a display name are defused, and the length is
capped. Pure: values in, text out.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping

from monitor.responder.settings import VARIABLES

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_LINKY = re.compile(r"(https?://|www\.)", re.IGNORECASE)
MAX_VALUE = 64


class TemplateError(ValueError):
    """A template or its values cannot make a safe reply; the message says which and why."""


def variables_in(text: str) -> list[str]:
    """The variable names a template uses; ValueError for a malformed one (``{x.y}``, ``{x:>3}``)."""
    names = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"malformed braces ({exc}); write {{{{ and }}}} for literal braces") from exc
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _NAME.match(field) or spec or conversion:
            raise ValueError(
                f"'{{{field}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}' "
                "is not a plain variable; use {name} only"
            )
        names.append(field)
    return names


def clean(value: str | None, *, display_name: bool = False) -> str:
    """A value safe to put in a public post: one line, no controls, capped; names cannot @ or link."""
    text = unicodedata.normalize("NFC", value or "")
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in text)
    text = " ".join(text.split())
    if display_name:
        # A display name is chosen by the author: it must not mention other accounts or add links.
        text = text.replace("@", "").replace("#", "")
        text = _LINKY.sub("", text)
    if len(text) > MAX_VALUE:
        text = text[: MAX_VALUE - 1].rstrip() + "…"
    return text


def render(text: str, values: Mapping[str, str | None], *, name: str = "template") -> str:
    """``text`` with every ``{variable}`` filled in; :class:`TemplateError` for an unknown or empty one."""
    try:
        used = variables_in(text)
    except ValueError as exc:
        raise TemplateError(f"{name}: {exc}") from exc
    unknown = sorted(set(used) - set(VARIABLES))
    if unknown:
        raise TemplateError(
            f"{name}: unknown variable(s) {', '.join('{' + u + '}' for u in unknown)}; "
            f"known: {', '.join('{' + v + '}' for v in VARIABLES)}"
        )
    empty = sorted({u for u in used if not (values.get(u) or "").strip()})
    if empty:
        hint = {
            "ticket_link": "set responder.ticket_link",
            "product": "set responder.product",
            "agent": "reply --as a named agent or set responder.agents",
        }
        fixes = "; ".join(hint[e] for e in empty if e in hint)
        raise TemplateError(
            f"{name}: no value for {', '.join('{' + e + '}' for e in empty)}"
            f"{' (' + fixes + ')' if fixes else ''}; nothing was queued"
        )
    out = []
    for literal, field, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if field is not None:
            out.append(str(values[field]))
    return "".join(out)


def values_for(
    *,
    author_name: str | None,
    author_handle: str,
    brand: str,
    product: str | None,
    agent: str | None,
    window: str,
    ticket_link: str | None,
    mention_id: int,
) -> dict[str, str | None]:
    """The template variables for one mention, already cleaned."""
    handle = clean(author_handle).lstrip("@")
    link = ticket_link.replace("{mention_id}", str(mention_id)) if ticket_link else None
    return {
        "author": clean(author_name, display_name=True) or handle,
        "handle": f"@{handle}" if handle else "",
        "brand": clean(brand),
        "product": clean(product or brand),
        "agent": clean(agent, display_name=True) if agent else None,
        "window": clean(window),
        "ticket_link": link,
    }
