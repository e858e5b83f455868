"""Who is asking: logins from ``dashboard.users`` (argon2 hashes), signed session cookies, roles.

Roles: ``viewer`` reads and exports, ``agent`` also acts on mentions, ``manager``
does everything. A trusted reverse proxy may name the user in
``dashboard.proxy_auth_header`` instead (opt-in; only from ``trusted_proxies``).
A session is a signed cookie (HttpOnly, SameSite=Lax, Secure over https) holding
the login, a random session id (the CSRF token is derived from it) and its expiry;
the role is read from the config on every request, so removing a user ends their
sessions. Failed logins are rate-limited per address and per login.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from monitor.web.context import WebContext, get_ctx
from monitor.web.pages import render

log = logging.getLogger(__name__)

ROLES = ("viewer", "agent", "manager")
SESSION_COOKIE = "mm_session"
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when the login is unknown keeps the timing the same as a wrong password.

    Made at the first unknown login, not at import: an argon2 hash takes 64 MiB for a moment,
    and the daemon imports this module whenever it serves the dashboard.
    """
    return _HASHER.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """An argon2id hash for ``dashboard.users.<login>.password_hash``."""
    return _HASHER.hash(password)


@dataclass(frozen=True, slots=True)
class User:
    login: str
    name: str
    role: str
    sid: str  # session id; the CSRF token is derived from it
    via: str = "password"  # password | proxy

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return self.login


class LoginRequired(Exception):
    """No valid session: the handler turns it into a redirect to /login?next=…"""

    def __init__(self, reason: str = "") -> None:
        self.reason = reason


class Forbidden(Exception):
    """Logged in, but the role may not do this."""

    def __init__(self, message: str) -> None:
        self.message = message


# -- session cookies


def _mac(secret: bytes, payload: str) -> str:
    return hmac.new(secret, f"session:{payload}".encode(), hashlib.sha256).hexdigest()


def make_session(ctx: WebContext, login: str, now: datetime) -> str:
    expires = int((now + timedelta(hours=ctx.config.dashboard.session_hours)).timestamp())
    body = {"u": login, "sid": secrets.token_urlsafe(16), "exp": expires}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
    return f"{payload}.{_mac(ctx.secret, payload)}"


def read_session(ctx: WebContext, cookie: str | None, now: datetime) -> tuple[dict, str] | None:
    """The session body and why not when it is missing, forged or expired (None, reason)."""
    if not cookie or "." not in cookie:
        return None
    payload, mac = cookie.rsplit(".", 1)
    if not hmac.compare_digest(mac, _mac(ctx.secret, payload)):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(body, dict) or now.timestamp() > float(body.get("exp", 0)):
        return {}, "expired"
    return body, ""


def _trusted(ctx: WebContext, host: str | None) -> bool:
    if not host:
        return False
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(n, strict=False) for n in ctx.config.dashboard.trusted_proxies)


def identify(request: Request, ctx: WebContext) -> User:
    """The user behind this request, or :class:`LoginRequired`."""
    dash = ctx.config.dashboard
    if dash.proxy_auth_header and _trusted(ctx, request.client.host if request.client else None):
        login = (request.headers.get(dash.proxy_auth_header) or "").strip()
        if login:
            entry = dash.users.get(login)
            role = entry.role if entry else dash.proxy_default_role
            name = (entry.name if entry else None) or login
            sid = hmac.new(ctx.secret, f"proxy:{login}".encode(), hashlib.sha256).hexdigest()[:22]
            return User(login, name, role, sid, via="proxy")
    found = read_session(ctx, request.cookies.get(SESSION_COOKIE), ctx.clock())
    if found is None:
        raise LoginRequired()
    body, reason = found
    if reason:
        raise LoginRequired("Your session expired; log in again to continue.")
    entry = dash.users.get(str(body.get("u")))
    if entry is None:
        raise LoginRequired("That login no longer exists.")
    return User(str(body["u"]), entry.name or str(body["u"]), entry.role, str(body.get("sid", "")))


def current_user(request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]) -> User:
    user = identify(request, ctx)
    request.state.user = user
    return user


def require(role: str):  # type: ignore[no-untyped-def]
    """A dependency: the current user, who must have at least ``role``."""

    def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.can(role):
            raise Forbidden(
                f"You are logged in as {user.login} ({user.role}); this needs the {role} role. "
                "Ask a manager to change your role in dashboard.users."
            )
        return user

    return dependency


Viewer = Annotated[User, Depends(current_user)]
Agent = Annotated[User, Depends(require("agent"))]
Manager = Annotated[User, Depends(require("manager"))]


# -- login rate limit


class LoginLimiter:
    """At most ``attempts`` failures per login, and four times that per address, in a sliding window.

    The address gets more room because a whole office (or a reverse proxy) shares one.
    """

    def __init__(self, attempts: int, window: timedelta = timedelta(minutes=15)) -> None:
        self.attempts = attempts
        self.window = window
        self._fails: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def wait(self, keys: list[str], now: datetime) -> int:
        """Seconds until another attempt is allowed (0 = now)."""
        with self._lock:
            longest = 0
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= (self.attempts * 4 if key.startswith("ip:") else self.attempts):
                    longest = max(longest, int((q[0] + self.window - now).total_seconds()) + 1)
            return longest

    def failed(self, keys: list[str], now: datetime) -> None:
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._fails) > 10_000:  # forget idle keys; the window is what matters
                for key in [k for k, q in self._fails.items() if not q]:
                    del self._fails[key]

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._fails.pop(key, None)


def safe_next(value: str | None) -> str:
    """Only a path on this site (never //evil.example or https://…)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def login_redirect(request: Request, reason: str = "") -> RedirectResponse:
    path = request.url.path
    if request.method != "GET":
        # After logging in, land on the page the form was on (a POST target is not a page).
        referer = request.headers.get("referer") or ""
        base = str(request.base_url)
        path = "/" + referer[len(base) :] if referer.startswith(base) else "/"
    elif request.url.query:
        path = f"{path}?{request.url.query}"
    target = f"/login?next={quote(safe_next(path), safe='')}"
    if reason:
        target += "&expired=1"
    return RedirectResponse(target, status_code=303)


# -- the login page

router = APIRouter()


def _limiter(ctx: WebContext) -> LoginLimiter:
    limiter = ctx.extras.get("login_limiter")
    if limiter is None:
        limiter = ctx.extras["login_limiter"] = LoginLimiter(ctx.config.dashboard.login_attempts)
    return limiter


def _login_form(
    request: Request,
    ctx: WebContext,
    context: dict,
    *,
    status: int = 200,
    message: tuple[str, str] | None = None,
) -> Response:
    from monitor.web.csrf import ensure_login_cookie, prepare_form_cookie

    prepare_form_cookie(request)
    response = render(request, ctx, "login.html", context, status=status, message=message)
    ensure_login_cookie(request, response, ctx)
    return response


@router.get("/login")
def login_page(
    request: Request, ctx: Annotated[WebContext, Depends(get_ctx)], next: str = "/", expired: str = ""
) -> Response:
    message = ("warning", "Your session expired; log in again to continue.") if expired else None
    if not ctx.config.dashboard.users and not ctx.config.dashboard.proxy_auth_header:
        message = (
            "error",
            "No dashboard logins are configured: add dashboard.users (see `mention-monitor web "
            "hash-password`) and restart.",
        )
    return _login_form(request, ctx, {"next": safe_next(next)}, message=message)


@router.post("/login")
def login(
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    login: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    from monitor.web.csrf import check_login_token

    now = ctx.clock()
    target = safe_next(next)
    login = login.strip()
    if not check_login_token(request, csrf):
        response = _login_form(
            request,
            ctx,
            {"next": target, "login": login},
            status=403,
            message=("error", "The form expired (or cookies are blocked); please try again."),
        )
        return response
    keys = [f"ip:{request.client.host if request.client else '?'}", f"user:{login.lower()}"]
    limiter = _limiter(ctx)
    wait = limiter.wait(keys, now)
    if wait:
        response = _login_form(
            request,
            ctx,
            {"next": target, "login": login},
            status=429,
            message=("error", f"Too many failed logins. Try again in {wait // 60 + 1} minute(s)."),
        )
        response.headers["Retry-After"] = str(wait)
        return response
    entry = ctx.config.dashboard.users.get(login)
    stored = entry.password_hash.get_secret_value() if entry else _dummy_hash()
    try:
        ok = _HASHER.verify(stored, password) and entry is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        limiter.failed(keys, now)
        log.info("dashboard: failed login for %r from %s", login[:64], keys[0][3:])
        response = _login_form(
            request,
            ctx,
            {"next": target, "login": login},
            status=401,
            message=("error", "Wrong login or password."),
        )
        return response
    limiter.succeeded(keys[1:])
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        make_session(ctx, login, now),
        max_age=int(ctx.config.dashboard.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=ctx.https or request.url.scheme == "https",
        path="/",
    )
    log.info("dashboard: %s logged in", login)
    return response


@router.post("/logout")
def logout(ctx: Annotated[WebContext, Depends(get_ctx)], user: Viewer) -> Response:
    # The app-wide CSRF guard has checked the token: a forged logout is refused too.
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    log.info("dashboard: %s logged out", user.login)
    return response
