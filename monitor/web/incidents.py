"""Incidents (storms of similar complaints): the list; per incident its timeline, members, bulk actions.

The timeline is detected → acknowledged → first public reply → resolved. Bulk
actions go through :mod:`monitor.workflow` (``incident_action``, the responder's
``request_incident_reply``, and the inbox's per-mention bulk form for a selection).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from monitor import workflow
from monitor.store import inbox as store
from monitor.web.auth import Agent, Viewer
from monitor.web.context import WebContext, get_ctx
from monitor.web.inbox import row_context
from monitor.web.pages import render, set_flash

router = APIRouter()
Ctx = Annotated[WebContext, Depends(get_ctx)]


@router.get("/incidents")
def incidents(request: Request, ctx: Ctx, user: Viewer, status: str = "", before: str = "") -> Response:
    message = None
    if status not in ("", "open", "closed", "resolved"):
        message = ("error", f"status: {status[:32]!r} is not one of open, closed, resolved; showing all")
        status = ""
    before_id = int(before) if before.isdigit() else None
    rows, next_before = store.incidents_page(ctx.engine, status=status or None, before=before_id)
    return render(
        request,
        ctx,
        "incidents.html",
        {
            "title": "Incidents",
            "active": "incidents",
            "rows": rows,
            "status": status,
            "next_before": next_before,
            "first_page": before_id is None,
        },
        user=user,
        message=message,
    )


def _incident_page(
    request: Request,
    ctx: WebContext,
    user,
    incident_id: int,
    *,
    status: int = 200,
    message=None,  # type: ignore[no-untyped-def]
) -> Response:
    story = store.incident_story(ctx.engine, incident_id)
    if story is None:
        raise HTTPException(404, f"There is no incident #{incident_id}.")
    return render(
        request,
        ctx,
        "incident.html",
        {
            "title": f"Incident #{incident_id}",
            "active": "incidents",
            "s": story,
            "i": story["incident"],
            "rows": story["members"],
            "can_act": user.can("agent"),
            "templates": sorted(ctx.config.responder.templates),
            **row_context(ctx),
        },
        status=status,
        user=user,
        message=message,
    )


@router.get("/incidents/{incident_id:int}")
def incident(request: Request, incident_id: int, ctx: Ctx, user: Viewer) -> Response:
    return _incident_page(request, ctx, user, incident_id)


@router.post("/incidents/{incident_id:int}/{action}")
def incident_act(
    request: Request,
    incident_id: int,
    action: str,
    ctx: Ctx,
    user: Agent,
    text: Annotated[str, Form(max_length=5000)] = "",
    template: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    now = ctx.clock()
    try:
        if action in ("acknowledge", "resolve"):
            outcomes = workflow.incident_action(ctx.engine, incident_id, action, actor=user.actor, now=now)
            done = "acknowledged" if action == "acknowledge" else "resolved"
            changed = sum(o.result == "changed" for o in outcomes)
            note = f"Incident #{incident_id} {done}; {changed} member mention(s) {done}."
        elif action == "reply":
            r = workflow.request_incident_reply(
                ctx.engine,
                ctx.config,
                incident_id,
                text=text.strip() or None,
                template=None if text.strip() else (template or None),
                actor=user.actor,
                now=now,
            )
            note = (
                f"Status reply queued (#{r.reply_id}); when the platform confirms it, members are resolved "
                "(authors with a large following stay open for a personal reply)."
            )
        else:
            raise HTTPException(404, f"Unknown incident action {action!r}.")
    except workflow.WorkflowError as exc:
        if "no incident" in str(exc):
            raise HTTPException(404, str(exc)) from None
        return _incident_page(
            request,
            ctx,
            user,
            incident_id,
            status=409 if isinstance(exc, workflow.Conflict) else 400,
            message=("error", f"Not done — {exc}."),
        )
    response = RedirectResponse(f"/incidents/{incident_id}", status_code=303)
    set_flash(response, ctx, "success", note)
    return response
