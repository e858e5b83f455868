"""The inbox: newest-first mentions with filters and counts, keyset pages, live updates, bulk actions, export.

Handlers parse the query (:mod:`monitor.web.filters`), read through
:mod:`monitor.store.inbox` and change things only through :mod:`monitor.workflow`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from monitor import workflow
from monitor.store import inbox as store
from monitor.web import filters
from monitor.web.auth import Agent, Viewer
from monitor.web.context import WebContext, get_ctx
from monitor.web.pages import ENV, ago, render, set_flash

router = APIRouter()

PAGE_SIZE = 50
POLL_MS = 5000
Ctx = Annotated[WebContext, Depends(get_ctx)]


def _platforms(ctx: WebContext) -> list[str]:
    configured = {s.platform or name for name, s in ctx.config.sources.items()}
    return sorted(configured | set(store.platforms_seen(ctx.engine)))


def row_context(ctx: WebContext) -> dict[str, Any]:
    now = ctx.clock()
    triage = ctx.config.triage
    return {"now": now, "ago": lambda ts: ago(ts, now), "p1": triage.p1_urgency, "p2": triage.p2_urgency}


@router.get("/")
def inbox(request: Request, ctx: Ctx, user: Viewer, after: str | None = None) -> Response:
    params = dict(request.query_params)
    f, errors = filters.parse(params, ctx.clock())
    f = store.with_search(ctx.engine, f)  # the search is looked up once for the page and its counts
    newest = store.newest_id(ctx.engine)  # before the page: nothing stored meanwhile is missed
    with store.one_count_read():  # the page, the facet counts and the total read inbox_count once
        try:
            rows, next_cursor = store.inbox_page(ctx.engine, f, after=after, limit=PAGE_SIZE)
        except ValueError as exc:
            errors["page"] = str(exc)
            after = None
            rows, next_cursor = store.inbox_page(ctx.engine, f, limit=PAGE_SIZE)
        platforms = _platforms(ctx)
        counts = store.facet_counts(ctx.engine, f, platforms)
        total = store.total_count(ctx.engine, f)
    message = None
    if errors:
        message = (
            "error",
            "Some filters could not be read and were left out: "
            + "; ".join(f"{filters_label(k)}: {v}" for k, v in errors.items()),
        )
    poll_params = filters.to_params(f, params)
    return render(
        request,
        ctx,
        "inbox.html",
        {
            "active": "inbox",
            "rows": rows,
            "f": f,
            "raw": params,
            "errors": errors,
            "counts": counts,
            "total": total,
            "cap": store.COUNT_CAP,
            "platforms": platforms,
            "assignees": store.people(ctx.engine, "assignee"),
            "claimers": store.people(ctx.engine, "claimed_by"),
            "next_cursor": next_cursor,
            "first_page": not after,
            "link": lambda **kw: "/?" + _qs(filters.to_params(f, params, **kw)),
            "poll_url": "/inbox/poll?" + _qs(poll_params),
            "export_qs": _qs(poll_params),
            "newest": newest,
            "live": not after and f.sort == "age",
            "poll_ms": POLL_MS,
            "can_act": user.can("agent"),
            **row_context(ctx),
        },
        status=200,
        user=user,
        message=message,
    )


_LABELS = {
    "q": "search",
    "since": "from",
    "until": "to",
    "claimed_by": "claimed by",
    "page": "page",
}


def filters_label(name: str) -> str:
    return _LABELS.get(name, name)


def _qs(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


@router.get("/inbox/poll")
def poll(request: Request, ctx: Ctx, user: Viewer, after: int = 0) -> JSONResponse:
    """Mentions newer than ``after`` for the live inbox: count, newest id and their rows as HTML."""
    f, _errors = filters.parse(dict(request.query_params), ctx.clock())
    rows = store.newer_than(ctx.engine, f, after, limit=PAGE_SIZE)
    html = ENV.get_template("_rows.html").render(
        rows=rows, fresh=True, can_act=user.can("agent"), **row_context(ctx)
    )
    return JSONResponse(
        {"count": len(rows), "newest": max((r["id"] for r in rows), default=after), "html": html}
    )


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(store.EXPORT_COLUMNS)
    for n, row in enumerate(rows, 1):
        # A leading =, +, - or @ makes spreadsheets run the cell as a formula: quote it as text.
        writer.writerow(
            [
                "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                for v in (_cell(row[c]) for c in store.EXPORT_COLUMNS)
            ]
        )
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for n, row in enumerate(rows):
        yield (
            ("," if n else "") + "\n" + json.dumps({k: _cell(v) for k, v in row.items()}, ensure_ascii=False)
        )
    yield "\n]\n"


@router.get("/inbox/export.{fmt}")
def export(request: Request, fmt: str, ctx: Ctx, user: Viewer) -> Response:
    """The filtered list (every filter applies, every row) as CSV or JSON, streamed as it is read."""
    if fmt not in ("csv", "json"):
        return render(
            request,
            ctx,
            "error.html",
            {"title": "Unknown format"},
            status=404,
            user=user,
            message=("error", f"Exports come as .csv or .json, not .{fmt}."),
        )
    f, errors = filters.parse(dict(request.query_params), ctx.clock())
    if errors:
        return render(
            request,
            ctx,
            "error.html",
            {"title": "Export not made"},
            status=400,
            user=user,
            message=(
                "error",
                "Fix the filters first: " + "; ".join(f"{filters_label(k)}: {v}" for k, v in errors.items()),
            ),
        )
    stamp = ctx.clock().strftime("%Y%m%d-%H%M")
    rows = store.export_rows(ctx.engine, f)
    if fmt == "csv":
        body, media = _csv(rows), "text/csv; charset=utf-8"
    else:
        body, media = _jsonl(rows), "application/json"
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="mentions-{stamp}.{fmt}"'},
    )


BULK_ACTIONS = {
    "acknowledge": "acknowledged",
    "claim": "claimed",
    "resolve": "resolved",
    "ignore": "ignored",
    "assign": "assigned",
}


def run_bulk(ctx: WebContext, user: Any, action: str, ids: list[int], assignee: str = "") -> tuple[str, str]:
    """Apply a workflow action to several mentions; (kind, message) for the flash note."""
    if not ids:
        return "warning", "Select at least one mention first."
    if action not in BULK_ACTIONS:
        return "error", f"Unknown action {action!r}."
    now = ctx.clock()
    try:
        if action == "assign":
            outcomes = workflow.assign(ctx.engine, ids, assignee, actor=user.actor, now=now)
        elif action == "claim":
            outcomes = workflow.claim(ctx.engine, ids, actor=user.actor, now=now)
        else:
            outcomes = workflow.transition(ctx.engine, ids, action, actor=user.actor, now=now)
    except workflow.Conflict as exc:
        return "error", f"Nothing was changed: {exc}."
    except workflow.WorkflowError as exc:
        return "error", f"Nothing was changed: {exc}."
    changed = [o for o in outcomes if o.result == "changed"]
    skipped = [o for o in outcomes if o.result != "changed"]
    text = f"{len(changed)} of {len(outcomes)} mention(s) {BULK_ACTIONS[action]}."
    if skipped:
        text += " Unchanged: " + ", ".join(f"#{o.mention_id} ({o.detail})" for o in skipped[:8])
        if len(skipped) > 8:
            text += f" and {len(skipped) - 8} more"
    return ("success" if changed else "warning"), text


@router.post("/inbox/bulk")
def bulk(
    request: Request,
    ctx: Ctx,
    user: Agent,
    action: Annotated[str, Form(max_length=32)],
    ids: Annotated[list[int], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    assignee: Annotated[str, Form(max_length=128)] = "",
    back: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    from monitor.web.auth import safe_next

    kind, text = run_bulk(ctx, user, action, ids[:500], assignee)
    response = RedirectResponse(safe_next(back), status_code=303)
    set_flash(response, ctx, kind, text)
    return response
