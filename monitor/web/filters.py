"""The inbox's query string ↔ :class:`~monitor.store.inbox.InboxFilter`, with an error per field.

Pure: ``parse(params, now)`` returns the filter built from what parsed and a map
``field → what is wrong``, so the form can mark exactly the field that did not
parse while the list still shows (without that filter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from monitor.store.inbox import FACETS, NOBODY, InboxFilter
from monitor.store.queries import parse_since
from monitor.triage.model import SEVERITIES

FIELDS = (
    "platform",
    "label",
    "priority",
    "severity",
    "status",
    "assignee",
    "claimed_by",
    "since",
    "until",
    "author",
    "q",
    "incident",
    "sort",
)
_LABELS = (*FACETS["label"], "unscored")


def parse(params: Mapping[str, str], now: datetime) -> tuple[InboxFilter, dict[str, str]]:
    f = InboxFilter()
    errors: dict[str, str] = {}

    def text(name: str, limit: int = 256) -> str | None:
        value = (params.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = f"too long ({len(value)} characters; at most {limit})"
            return None
        return value or None

    def choice(name: str, allowed: tuple[str, ...]) -> str | None:
        value = text(name, 32)
        if value is not None and value not in allowed:
            errors[name] = f"{value!r} is not one of {', '.join(allowed)}"
            return None
        return value

    values: dict[str, Any] = {
        "platform": text("platform", 32),
        "label": choice("label", _LABELS),
        "priority": choice("priority", FACETS["priority"]),
        "severity": choice("severity", SEVERITIES),
        "status": choice("status", FACETS["status"]),
        "assignee": text("assignee", 128),
        "claimed_by": text("claimed_by", 128),
        "author": text("author", 256),
        "q": text("q", 200),
        "sort": choice("sort", ("age", "urgency")) or "age",
    }
    for name in ("since", "until"):
        raw = text(name, 64)
        if raw:
            try:
                values[name] = parse_since(raw, now)
            except ValueError:
                errors[name] = f"{raw!r} is not a date (2026-11-01, 2026-11-01T14:00) or an age (30m, 2h, 7d)"
    if values.get("since") and values.get("until") and values["since"] >= values["until"]:
        errors["until"] = "must be later than 'from'"
        values.pop("until")
    incident = text("incident", 12)
    if incident:
        if incident.isdigit():
            values["incident"] = int(incident)
        else:
            errors["incident"] = f"{incident!r} is not an incident number"
    f = replace(f, **{k: v for k, v in values.items() if v is not None})
    return f, errors


def to_params(f: InboxFilter, raw: Mapping[str, str], **override: str | None) -> dict[str, str]:
    """The query string for the same view with ``override`` applied (None drops a key)."""
    out = {k: raw[k] for k in FIELDS if raw.get(k)}
    for key, value in override.items():
        if value is None or value == "":
            out.pop(key, None)
        else:
            out[key] = value
    if out.get("sort") == "age":
        out.pop("sort")
    return out


__all__ = ["FIELDS", "NOBODY", "parse", "to_params"]
