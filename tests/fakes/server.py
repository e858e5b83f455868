"""A small threaded HTTP server on 127.0.0.1 that platform fakes build on.

A fake registers handlers per (method, path); tests queue faults (a status with
headers and body, a delay longer than the client's timeout, a garbage body) that
are served instead of the next matching requests. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (to trigger client timeouts)
    truncate: int | None = None  # send only this many body bytes, then drop the connection (cut-off transfer)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, (dict, list)):
            payload = json.dumps(self.body).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif isinstance(self.body, str):
            payload = self.body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif self.body is None:
            payload = b""
        else:
            payload = bytes(self.body)
        return payload, headers


Handler = Callable[[Request], Response]


class FakeServer:
    """Start with ``with FakeX() as fake: fake.url``; ``fake.fail(...)`` queues faults."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.prefix_routes: list[tuple[str, str, Handler]] = []
        self.requests: list[Request] = []
        self._faults: deque[tuple[str | None, Response]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Crash tests: a post is stored, then its answer is held back until released.
        self.post_accepted = threading.Event()
        self._holding = False
        self._release = threading.Event()

    # -- set-up ---------------------------------------------------------
    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method.upper(), path)] = handler

    def route_prefix(self, method: str, prefix: str, handler: Handler) -> None:
        """Match any path starting with ``prefix`` (for ids in the path)."""
        self.prefix_routes.append((method.upper(), prefix, handler))

    def fail(self, response: Response, *, path: str | None = None, times: int = 1) -> None:
        """Serve ``response`` instead of the next ``times`` requests (to ``path`` if given)."""
        with self._lock:
            for _ in range(times):
                self._faults.append((path, response))

    def hold_posts(self) -> None:
        """From now on a reply is stored, ``post_accepted`` is set, and the answer waits for release."""
        self._release.clear()
        self.post_accepted.clear()
        self._holding = True

    def release_posts(self) -> None:
        self._holding = False
        self._release.set()

    def accepted(self) -> None:
        """Called by a fake's post handler after storing the post (blocks while posts are held)."""
        if self._holding:
            self.post_accepted.set()
            self._release.wait(30)

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with fake._lock:
                    fake.requests.append(req)
                resp = fake._dispatch(req)
                if resp.delay:
                    time.sleep(resp.delay)
                payload, headers = resp.encoded()
                try:
                    self.send_response(resp.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if resp.truncate is not None:
                        self.wfile.write(payload[: resp.truncate])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- serving --------------------------------------------------------
    def _dispatch(self, req: Request) -> Response:
        with self._lock:
            for i, (path, fault) in enumerate(self._faults):
                if path is None or path == req.path:
                    del self._faults[i]
                    return fault
        handler = self.routes.get((req.method, req.path))
        if handler is None:
            for method, prefix, h in self.prefix_routes:
                if method == req.method and req.path.startswith(prefix):
                    handler = h
                    break
        if handler is None:
            return self.not_found(req)
        return handler(req)

    def not_found(self, req: Request) -> Response:
        """Override to answer unknown paths the way the platform does."""
        return Response(404, {"error": "Not Found"})
