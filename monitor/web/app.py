"""The dashboard's ASGI app: ``create_app(config, engine, clock=…)`` wires routers, auth, CSRF, errors.

One app serves everything the daemon offers over HTTP: the dashboard (inbox,
mention pages, incidents, reports), the signed chat links (``/ack``, ``/claim``)
and, when the operations router exists, ``/healthz`` and ``/metrics``.

Adding a page: write a module with ``router = APIRouter()`` whose handlers take
``ctx: Annotated[WebContext, Depends(get_ctx)]`` and a user (``Viewer``,
``Agent`` or ``Manager`` from :mod:`monitor.web.auth`), render templates that
``{% extends "base.html" %}`` with :func:`monitor.web.pages.render`, and call
``monitor.workflow`` for any change. CSRF is checked app-wide; unknown ids
raise ``HTTPException(404)`` and get the 404 page; nothing answers with a bare 500.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from monitor.config import Config
from monitor.web import auth
from monitor.web.context import Clock, NavItem, WebContext, utcnow
from monitor.web.csrf import CSRFRefused, csrf_guard
from monitor.web.pages import render

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")

# Security headers on every answer: no inline script, nothing from other sites, no framing.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _user_or_none(request: Request) -> auth.User | None:
    return getattr(request.state, "user", None)


def create_app(config: Config, engine: Engine, *, clock: Clock = utcnow) -> FastAPI:
    """The whole web app for ``config``; ``clock`` is injectable so tests can expire links and sessions."""
    ctx = WebContext(config=config, engine=engine, clock=clock)
    app = FastAPI(
        title="mention-monitor",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.ctx = ctx

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(auth.LoginRequired)
    async def login_required(request: Request, exc: auth.LoginRequired) -> Response:
        if _wants_json(request) or request.url.path.endswith((".json", "/poll")):
            return JSONResponse({"error": "login required", "login": "/login"}, status_code=401)
        return auth.login_redirect(request, exc.reason)

    @app.exception_handler(auth.Forbidden)
    async def forbidden(request: Request, exc: auth.Forbidden) -> Response:
        return render(
            request,
            ctx,
            "error.html",
            {"title": "Not allowed"},
            status=403,
            user=_user_or_none(request),
            message=("error", exc.message),
        )

    @app.exception_handler(CSRFRefused)
    async def csrf_refused(request: Request, exc: CSRFRefused) -> Response:
        return render(
            request,
            ctx,
            "error.html",
            {"title": "Request refused"},
            status=403,
            user=_user_or_none(request),
            message=(
                "error",
                "This action came without a valid form token (CSRF), so nothing was changed. "
                "Reload the page and try again.",
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        title = {404: "Not found", 405: "Not allowed", 400: "Bad request"}.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is no page at this address."
        return render(
            request,
            ctx,
            "error.html",
            {"title": title},
            status=exc.status_code,
            user=_user_or_none(request),
            message=("error", detail),
        )

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        return render(
            request,
            ctx,
            "error.html",
            {"title": "Bad request"},
            status=400,
            user=_user_or_none(request),
            message=("error", f"Some input could not be read ({fields}). Go back and check it."),
        )

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> Response:
        log.error("dashboard: database error on %s: %s", request.url.path, exc.orig)
        return render(
            request,
            ctx,
            "error.html",
            {"title": "Database unavailable"},
            status=503,
            user=_user_or_none(request),
            message=("error", "The database did not answer; try again in a moment. Nothing was changed."),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("dashboard: unexpected error on %s %s", request.method, request.url.path)
        return render(
            request,
            ctx,
            "error.html",
            {"title": "Something went wrong"},
            status=500,
            user=_user_or_none(request),
            message=("error", "The dashboard hit an error (it is in the daemon's log). Nothing was changed."),
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    for module, nav in (
        ("monitor.web.inbox", NavItem("Inbox", "/", "inbox")),
        ("monitor.web.mention_page", None),
        ("monitor.web.incidents", NavItem("Incidents", "/incidents", "incidents")),
        ("monitor.web.links", None),
        # Built by other engineers; included when present.
        ("monitor.web.reports", NavItem("Reports", "/reports", "reports")),
        ("monitor.web.health", None),
    ):
        try:
            router = importlib.import_module(module).router
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        app.include_router(router)
        if nav:
            ctx.nav.append(nav)
    if not any(getattr(r, "path", None) == "/healthz" for r in app.routes):

        @app.get("/healthz", include_in_schema=False)
        def healthz() -> PlainTextResponse:
            return PlainTextResponse("ok")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml")

    return app
