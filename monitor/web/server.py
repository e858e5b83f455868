"""Serving the web app with uvicorn: in a daemon thread (``dashboard.listen``) or on its own (``web``).

:func:`serve` blocks until ``stop`` is set and then shuts uvicorn down cleanly
(open requests finish, the socket closes), so it fits the daemon's service
threads. A port that is taken raises :class:`OSError` for the daemon to log.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading

import uvicorn
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.web import wanted as wanted  # the daemon's test, re-exported
from monitor.web.context import Clock, utcnow

log = logging.getLogger(__name__)


def _bind(listen: str) -> socket.socket:
    host, port = listen.rsplit(":", 1)
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), int(port)))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(exc.errno, f"{listen} is already in use by another program") from None
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the daemon owns SIGTERM/SIGINT
        pass


def build_server(engine: Engine, config: Config, *, clock: Clock = utcnow) -> uvicorn.Server:
    from monitor.web.app import create_app

    trusted = config.dashboard.trusted_proxies
    uv_config = uvicorn.Config(
        create_app(config, engine, clock=clock),
        log_config=None,
        access_log=False,  # request lines carry signed link tokens; keep them out of the journal
        proxy_headers=bool(trusted),
        forwarded_allow_ips=",".join(trusted) if trusted else None,
        server_header=False,
        timeout_graceful_shutdown=10,
        lifespan="off",
    )
    return _Server(uv_config)


def serve(engine: Engine, config: Config, stop: threading.Event, *, clock: Clock = utcnow) -> None:
    """Serve on ``dashboard.listen`` until ``stop`` is set (run it in a thread)."""
    sock = _bind(config.dashboard.listen)
    server = build_server(engine, config, clock=clock)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="web:uvicorn", daemon=True
    )
    thread.start()
    shown = config.dashboard.public_url or f"http://{config.dashboard.listen}"
    log.info("dashboard listening on %s (%s)", config.dashboard.listen, shown)
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                raise RuntimeError("the web server stopped by itself")
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
