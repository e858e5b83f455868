"""A tiny WSGI app served by the daemon: ``/ack/<token>`` and ``/healthz``.

``GET /ack/<token>`` checks the signed link and shows the mention with an
*Acknowledge* button; the button's ``POST`` acknowledges it through
:func:`monitor.workflow.acknowledge`. The two steps matter: chat apps and mail
scanners fetch links to build previews, and a bare GET must not acknowledge
(and so silence the escalation of) a mention nobody has looked at. A link works
once: a mention that is no longer ``new`` is not changed again.
Standard library only (wsgiref), so the daemon needs no web framework to offer it.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor import workflow
from monitor.alerts.ack import TokenError, verify
from monitor.config import Config
from monitor.store import models as m

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
StartResponse = Callable[..., Any]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='robots' content='noindex'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em}"
        "blockquote{border-left:3px solid #ccc;margin:1em 0;padding-left:1em;white-space:pre-wrap}"
        "button{font-size:1.2em;padding:.5em 1.5em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


def make_app(engine: Engine, config: Config, *, clock: Clock = _utcnow) -> Callable[..., Iterable[bytes]]:
    """The WSGI application; ``clock`` is injectable so tests can expire links."""
    secret = config.dashboard.secret_key

    def respond(start: StartResponse, status: str, title: str, body: str) -> list[bytes]:
        payload = _page(title, body)
        start(
            status,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(payload))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                (
                    "Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
                ),
                ("Referrer-Policy", "no-referrer"),
            ],
        )
        return [payload]

    def app(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            start("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        if not path.startswith("/ack/"):
            return respond(start, "404 Not Found", "Not found", "<p>Nothing here.</p>")
        if secret is None:
            return respond(
                start,
                "503 Service Unavailable",
                "Acknowledge links are off",
                "<p>Set <code>dashboard.secret_key</code> in the config to use acknowledge links.</p>",
            )
        token = path[len("/ack/") :]
        now = clock()
        try:
            mention_id = verify(token, secret.get_secret_value(), now)
        except TokenError as exc:
            return respond(start, "403 Forbidden", "Link not valid", f"<p>{html.escape(str(exc))}</p>")
        with Session(engine) as s:
            mention = s.get(m.Mention, mention_id)
        if mention is None:
            return respond(start, "404 Not Found", "Mention not found", f"<p>No mention #{mention_id}.</p>")
        summary = (
            f"<p><b>@{html.escape(mention.author_handle)}</b> on {html.escape(mention.platform)} · "
            f"{html.escape(mention.priority or '-')} {html.escape(mention.label or '')}</p>"
            f"<blockquote>{html.escape(mention.text[:1000])}</blockquote>"
        )
        if mention.status != "new":
            when = f" at {mention.acknowledged_at:%Y-%m-%d %H:%M} UTC" if mention.acknowledged_at else ""
            return respond(
                start,
                "409 Conflict",
                f"Mention #{mention_id} is already {mention.status}",
                f"{summary}<p>Already {html.escape(mention.status)}{when}; nothing changed.</p>",
            )
        if method == "GET":
            form = (
                f"{summary}<form method='post'>"
                "<p><label>Your name (optional) <input name='by' maxlength='64'></label></p>"
                "<button type='submit'>Acknowledge</button></form>"
            )
            return respond(start, "200 OK", f"Acknowledge mention #{mention_id}?", form)
        if method != "POST":
            return respond(start, "405 Method Not Allowed", "Not allowed", "<p>Use the button.</p>")
        try:
            size = min(int(environ.get("CONTENT_LENGTH") or 0), 4096)
        except ValueError:
            size = 0
        fields = parse_qs(environ["wsgi.input"].read(size).decode("utf-8", "replace")) if size else {}
        by = (fields.get("by", [""])[0].strip() or "anonymous")[:64]
        outcome = workflow.acknowledge(engine, [mention_id], actor=f"ack-link:{by}", now=now)[0]
        if outcome.result != "changed":
            return respond(
                start,
                "409 Conflict",
                f"Mention #{mention_id} was not changed",
                f"{summary}<p>{html.escape(outcome.detail or outcome.result)}</p>",
            )
        log.info("mention %d acknowledged through its link by %s", mention_id, by)
        return respond(start, "200 OK", f"Mention #{mention_id} acknowledged", f"{summary}<p>Thank you.</p>")

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry the signed token; keep them out of the journal.
        log.debug("web: %s", format % args)


def serve(engine: Engine, config: Config, stop: threading.Event, *, clock: Clock = _utcnow) -> None:
    """Serve on ``dashboard.listen`` until ``stop`` is set (run it in a thread)."""
    host, port = config.dashboard.listen.rsplit(":", 1)
    server = make_server(
        host,
        int(port),
        make_app(engine, config, clock=clock),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
    thread.start()
    log.info("web endpoint listening on http://%s:%s", host, port)
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()


def wanted(config: Config) -> bool:
    """Whether the daemon should start the web endpoint: the dashboard, or acknowledge links, is on."""
    dash = config.dashboard
    return dash.enabled or bool(dash.public_url and dash.secret_key)
