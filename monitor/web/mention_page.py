"""One mention: the post as text, author, conversation, alerts, replies, notes, audit — and the actions.

Every action posts the ``version`` the page was rendered with; the workflow refuses
a stale one with :class:`monitor.workflow.Conflict` naming who changed the mention
and when, and the page says so instead of overwriting their work. Actions answer
JSON to the keyboard shortcuts (``Accept: application/json``) and a redirect
(with a one-shot note) to plain form posts.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from monitor import workflow
from monitor.store import inbox as store
from monitor.triage.model import LABELS
from monitor.triage.severity import severity_reasons
from monitor.web.auth import Agent, User, Viewer
from monitor.web.context import WebContext, get_ctx
from monitor.web.pages import render, set_flash

router = APIRouter()
Ctx = Annotated[WebContext, Depends(get_ctx)]

ACTIONS = (
    "claim",
    "release",
    "acknowledge",
    "resolve",
    "ignore",
    "reopen",
    "assign",
    "reply",
    "label",
    "note",
)
_DONE = {
    "claim": "Claimed",
    "release": "Claim released",
    "acknowledge": "Acknowledged",
    "resolve": "Resolved",
    "ignore": "Ignored",
    "reopen": "Reopened",
    "assign": "Assigned",
    "reply": "Reply queued",
    "label": "Label corrected",
    "note": "Note added",
}


def _templates(ctx: WebContext, mention: dict[str, Any], user: User) -> list[tuple[str, str]]:
    """Each reply template with its text for this mention (empty when it cannot render)."""
    out = []
    subject = SimpleNamespace(**mention)
    for name in sorted(ctx.config.responder.templates):
        try:
            text = workflow.render_reply(ctx.config, subject, text=None, template=name, actor=user.actor)
        except workflow.WorkflowError:
            text = ""
        out.append((name, text))
    return out


def _page(
    request: Request,
    ctx: WebContext,
    user: User,
    mention_id: int,
    *,
    status: int = 200,
    message: tuple[str, str] | None = None,
    draft: str = "",
) -> Response:
    story = store.mention_story(
        ctx.engine, mention_id, author_window_minutes=ctx.config.alerts.author_window_minutes
    )
    if story is None:
        raise HTTPException(
            404, f"There is no mention #{mention_id}. It may have been deleted, or the link is wrong."
        )
    mention = story["mention"]
    back = request.headers.get("referer") or "/"
    base = str(request.base_url)
    back = "/" + back[len(base) :] if back.startswith(base) and "/mentions/" not in back else "/"
    return render(
        request,
        ctx,
        "mention.html",
        {
            "title": f"#{mention_id} @{mention['author_handle']}",
            "active": "inbox",
            "s": story,
            "m": mention,
            "labels": [label for label in LABELS if label != "unscored"],
            "severity_reasons": severity_reasons(mention.get("reasons")) if mention.get("severity") else [],
            "rated": _team_rating(story["events"]) if mention.get("severity") else None,
            "templates": _templates(ctx, mention, user) if user.can("agent") else [],
            "can_act": user.can("agent"),
            "draft": draft,
            "back": back,
            "p1": ctx.config.triage.p1_urgency,
            "p2": ctx.config.triage.p2_urgency,
        },
        status=status,
        user=user,
        message=message,
    )


def _team_rating(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Who on the team set the mention's severity and what triage had said, from the audit trail
    (a "severity" event, or a relabel that moved it); None while the severity is triage's."""
    moves = []
    for e in events:
        detail = e.get("detail") or {}
        if e["action"] == "severity":
            moves.append((e["actor"], detail.get("before"), detail.get("after")))
        elif e["action"] == "relabel" and "severity_after" in detail:
            moves.append((e["actor"], detail.get("severity_before"), detail.get("severity_after")))
    if not moves:
        return None
    return {"actor": moves[-1][0], "triage": moves[0][1]}


@router.get("/mentions/{mention_id:int}")
def mention_page(request: Request, mention_id: int, ctx: Ctx, user: Viewer) -> Response:
    return _page(request, ctx, user, mention_id)


def perform(
    ctx: WebContext,
    user: User,
    mention_id: int,
    action: str,
    *,
    version: int | None,
    fields: dict[str, str],
) -> tuple[str, int | None]:
    """Run one workflow action; returns (what happened, new version). Raises WorkflowError/Conflict."""
    engine, actor, now = ctx.engine, user.actor, ctx.clock()
    if action == "claim":
        o = workflow.claim(engine, [mention_id], actor=actor, expect_version=version, now=now)[0]
    elif action == "release":
        o = workflow.release_claim(engine, [mention_id], actor=actor, now=now)[0]
    elif action in ("acknowledge", "resolve", "ignore", "reopen"):
        o = workflow.transition(
            engine,
            [mention_id],
            action,
            actor=actor,
            now=now,
            expect_version=version,
            note=fields.get("note") or None,
        )[0]
    elif action == "assign":
        o = workflow.assign(
            engine, [mention_id], fields.get("assignee", ""), actor=actor, now=now, expect_version=version
        )[0]
    elif action == "label":
        o = workflow.correct_label(
            engine,
            mention_id,
            fields.get("label", ""),
            actor=actor,
            now=now,
            expect_version=version,
            severity=fields.get("severity") or None,
            triage=ctx.config.triage,
        )
    elif action == "note":
        o = workflow.add_note(engine, mention_id, fields.get("text", ""), actor=actor, now=now)
    elif action == "reply":
        text = fields.get("text", "").strip()
        template = fields.get("template", "").strip()
        r = workflow.request_reply(
            engine,
            ctx.config,
            mention_id,
            text=text or None,
            template=None if text else (template or None),
            actor=actor,
            expect_version=version,
            now=now,
        )
        if r.duplicate:
            return (
                f"This reply was already queued (#{r.reply_id}, {r.status}); nothing was sent twice.",
                r.version,
            )
        return (
            f"Reply queued for {r.platform} (#{r.reply_id}); the responder posts it and records the link.",
            r.version,
        )
    else:
        raise HTTPException(404, f"Unknown action {action!r}.")
    if o.result == "missing":
        raise HTTPException(404, o.detail)
    if o.result == "unchanged":
        raise workflow.WorkflowError(f"Nothing changed: {o.detail}.")
    return (
        f"{_DONE[action]}{': ' + o.detail if o.detail and action in ('assign', 'label') else '.'}",
        o.version,
    )


@router.post("/mentions/{mention_id:int}/{action}")
async def act(request: Request, mention_id: int, action: str, ctx: Ctx, user: Agent) -> Response:
    if action not in ACTIONS:
        raise HTTPException(404, f"Unknown action {action!r}.")
    form = await request.form()
    fields = {k: str(v)[:5000] for k, v in form.items() if isinstance(v, str)}
    raw_version = fields.get("version", "")
    version = int(raw_version) if raw_version.isdigit() else None
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        text, new_version = perform(ctx, user, mention_id, action, version=version, fields=fields)
    except workflow.Conflict as exc:
        message = f"Not done — {exc}."
        if wants_json:
            return JSONResponse({"ok": False, "message": message, "by": exc.by}, status_code=409)
        return _page(
            request,
            ctx,
            user,
            mention_id,
            status=409,
            message=("error", message),
            draft=fields.get("text", "") if action == "reply" else "",
        )
    except workflow.WorkflowError as exc:
        message = str(exc)
        if wants_json:
            return JSONResponse({"ok": False, "message": message}, status_code=400)
        return _page(
            request,
            ctx,
            user,
            mention_id,
            status=400,
            message=("error", message),
            draft=fields.get("text", "") if action in ("reply", "note") else "",
        )
    if wants_json:
        story = store.mention_story(ctx.engine, mention_id, around=0)
        status = story["mention"]["status"] if story else None
        return JSONResponse(
            {"ok": True, "message": f"#{mention_id}: {text}", "status": status, "version": new_version}
        )
    response = RedirectResponse(f"/mentions/{mention_id}", status_code=303)
    set_flash(response, ctx, "success", text)
    return response
