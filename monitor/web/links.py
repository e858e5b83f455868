"""The signed links in chat alerts: ``/ack/<token>`` acknowledges, ``/claim/<token>`` takes ownership.

A GET only shows the mention and a button; the button's POST acts. Chat apps and
mail scanners fetch links to build previews, and a bare GET must not silence an
escalation or claim a mention for nobody. The token (``monitor.alerts.ack``) is
the authority, so no login is needed; the form carries a double-submit cookie
against cross-site posts. A link works once: an acknowledged mention is not
acknowledged again, and a claim held by someone else is refused with their name.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from monitor import workflow
from monitor.alerts.ack import TokenError, verify
from monitor.store import models as m
from monitor.web.context import WebContext, get_ctx
from monitor.web.csrf import FORM_COOKIE, ensure_login_cookie, prepare_form_cookie
from monitor.web.pages import render

log = logging.getLogger(__name__)

router = APIRouter()

_VERBS = {"ack": ("Acknowledge", "acknowledged"), "claim": ("Claim", "claimed")}


def _page(
    request: Request,
    ctx: WebContext,
    kind: str,
    mention: m.Mention | None,
    *,
    status: int,
    title: str,
    message: tuple[str, str] | None = None,
    form: bool = False,
) -> Response:
    prepare_form_cookie(request)
    response = render(
        request,
        ctx,
        "link.html",
        {"kind": kind, "verb": _VERBS[kind][0], "mention": mention, "title": title, "form": form},
        status=status,
        message=message,
    )
    ensure_login_cookie(request, response, ctx)
    return response


def _handle(request: Request, ctx: WebContext, kind: str, token: str, by: str | None, csrf: str) -> Response:
    verb, done = _VERBS[kind]
    key = ctx.config.dashboard.secret_key
    if key is None:
        return _page(
            request,
            ctx,
            kind,
            None,
            status=503,
            title=f"{verb} links are off",
            message=("error", "Set dashboard.secret_key in the config to use links from alerts."),
        )
    now = ctx.clock()
    try:
        mention_id = verify(token, key.get_secret_value(), now, purpose=kind)
    except TokenError as exc:
        return _page(
            request, ctx, kind, None, status=403, title="Link not valid", message=("error", str(exc))
        )
    with Session(ctx.engine) as s:
        mention = s.get(m.Mention, mention_id)
    if mention is None:
        return _page(
            request,
            ctx,
            kind,
            None,
            status=404,
            title="Mention not found",
            message=("error", f"No mention #{mention_id}: it may have been deleted."),
        )
    if kind == "ack" and mention.status != "new":
        when = f" at {mention.acknowledged_at:%Y-%m-%d %H:%M} UTC" if mention.acknowledged_at else ""
        return _page(
            request,
            ctx,
            kind,
            mention,
            status=409,
            title=f"Mention #{mention_id} is already {mention.status}",
            message=("info", f"Already {mention.status}{when}; nothing changed."),
        )
    if by is None:  # GET: show, do not act
        return _page(
            request, ctx, kind, mention, status=200, title=f"{verb} mention #{mention_id}?", form=True
        )
    cookie = request.cookies.get(FORM_COOKIE) or ""
    if not cookie or not hmac.compare_digest(cookie, csrf):
        return _page(
            request,
            ctx,
            kind,
            mention,
            status=403,
            title="Please press the button again",
            message=("error", "The form expired (or cookies are blocked); nothing changed."),
            form=True,
        )
    name = (by.strip() or "anonymous")[:64]
    actor = f"{kind}-link:{name}"
    try:
        if kind == "ack":
            outcome = workflow.acknowledge(ctx.engine, [mention_id], actor=actor, now=now)[0]
            changed, detail = outcome.result == "changed", outcome.detail or outcome.result
        else:
            outcome = workflow.claim(ctx.engine, [mention_id], actor=actor, now=now)[0]
            changed, detail = outcome.result == "changed", outcome.detail or outcome.result
    except workflow.WorkflowError as exc:
        changed, detail = False, str(exc)
    if not changed:
        return _page(
            request,
            ctx,
            kind,
            mention,
            status=409,
            title=f"Mention #{mention_id} was not changed",
            message=("error", detail),
        )
    log.info("mention %d %s through its link by %s", mention_id, done, name)
    return _page(
        request,
        ctx,
        kind,
        mention,
        status=200,
        title=f"Mention #{mention_id} {done}",
        message=("success", f"{done.capitalize()} as {name}. Thank you."),
    )


@router.get("/ack/{token}")
def ack_page(request: Request, token: str, ctx: Annotated[WebContext, Depends(get_ctx)]) -> Response:
    return _handle(request, ctx, "ack", token, None, "")


@router.post("/ack/{token}")
def ack(
    request: Request,
    token: str,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    by: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    return _handle(request, ctx, "ack", token, by, csrf)


@router.get("/claim/{token}")
def claim_page(request: Request, token: str, ctx: Annotated[WebContext, Depends(get_ctx)]) -> Response:
    return _handle(request, ctx, "claim", token, None, "")


@router.post("/claim/{token}")
def claim(
    request: Request,
    token: str,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    by: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    return _handle(request, ctx, "claim", token, by, csrf)
