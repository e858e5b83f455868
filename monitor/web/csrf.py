"""CSRF protection for every state-changing request, checked once for the whole app.

:func:`csrf_guard` is an app-wide dependency: any POST/PUT/PATCH/DELETE must
carry the token in the ``csrf`` form field or the ``X-CSRF-Token`` header. For a
logged-in user the token is an HMAC of the session id (so it changes with each
login and cannot be guessed from another session). The login form and the signed
chat links (``/ack``, ``/claim``), which have no session, use a double-submit
cookie instead. Routers added later (reports) are covered without doing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from monitor.web.context import WebContext, get_ctx

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_COOKIE = "mm_form"
# Paths that check a double-submit cookie themselves (no session exists there).
_OWN_CHECK = ("/login", "/ack/", "/claim/")


class CSRFRefused(Exception):
    """A state-changing request without a valid token."""


def session_token(ctx: WebContext, sid: str) -> str:
    return hmac.new(ctx.secret, f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()[:32]


def csrf_token(request: Request, ctx: WebContext, user: Any) -> str:
    """The token to put in forms on this page."""
    if user is not None and getattr(user, "sid", None):
        return session_token(ctx, user.sid)
    return request.cookies.get(FORM_COOKIE) or getattr(request.state, "form_cookie", "")


def ensure_login_cookie(request: Request, response: Response, ctx: WebContext) -> None:
    """Give a session-less form (login, chat links) its double-submit cookie."""
    value = request.cookies.get(FORM_COOKIE) or getattr(request.state, "form_cookie", "")
    if not request.cookies.get(FORM_COOKIE):
        response.set_cookie(
            FORM_COOKIE,
            value,
            max_age=3600 * 12,
            httponly=True,
            samesite="strict",
            secure=ctx.https or request.url.scheme == "https",
            path="/",
        )


def prepare_form_cookie(request: Request) -> None:
    """Pick the double-submit value before rendering, so the form and the cookie agree."""
    if not request.cookies.get(FORM_COOKIE):
        request.state.form_cookie = secrets.token_urlsafe(24)


def check_login_token(request: Request, submitted: str) -> bool:
    cookie = request.cookies.get(FORM_COOKIE) or ""
    return bool(cookie) and hmac.compare_digest(cookie, submitted or "")


async def csrf_guard(request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]) -> None:
    if request.method in SAFE_METHODS or request.url.path.startswith(_OWN_CHECK):
        return
    from monitor.web.auth import identify

    user = identify(request, ctx)  # no session: LoginRequired → the login page
    submitted = request.headers.get("x-csrf-token") or ""
    if not submitted:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached: the handler's Form() fields read the same parse
            submitted = str(form.get("csrf") or "")
    if not submitted or not hmac.compare_digest(submitted, session_token(ctx, user.sid)):
        raise CSRFRefused()
