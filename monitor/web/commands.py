"""``mention-monitor web``: serve the dashboard on its own, or make a password hash for ``dashboard.users``.

``web -c config.yaml`` serves until SIGTERM/SIGINT (the daemon serves it too when
``dashboard.enabled``); ``web hash-password`` reads a password (twice from a
terminal, once from a pipe) and prints the argon2 hash with the YAML to paste.
"""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(sub: Any) -> None:
    p = sub.add_parser(
        "web",
        help="serve the dashboard on its own, or hash a dashboard password",
        description="Serve the web dashboard (inbox, mention pages, incidents, reports, ack links) on "
        "dashboard.listen until SIGTERM/SIGINT; `web hash-password` prints an argon2 hash for "
        "dashboard.users.",
    )
    p.add_argument("action", nargs="?", choices=["serve", "hash-password"], default="serve")
    p.add_argument("-c", "--config", help="the YAML config file (needed to serve)")
    p.add_argument("--listen", help="HOST:PORT, overriding dashboard.listen")
    p.add_argument("--login", default="alice", help="login name shown in the YAML snippet (hash-password)")
    p.add_argument("--role", choices=["viewer", "agent", "manager"], default="agent")


def _hash_password(args: argparse.Namespace, out: Any, err: Any) -> int:
    from monitor.web.auth import hash_password

    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            err.print("the two passwords differ; nothing printed")
            return EXIT_USAGE
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 8:
        err.print("use at least 8 characters (a passphrase of a few words is best)")
        return EXIT_USAGE
    hashed = hash_password(first)
    out.print(hashed, markup=False)
    err.print(
        "\nin the config:\n\ndashboard:\n  users:\n"
        f"    {args.login}:\n      role: {args.role}\n      password_hash: '{hashed}'",
        markup=False,
        soft_wrap=True,
    )
    return EXIT_OK


def handle_web(args: argparse.Namespace, out: Any, err: Any) -> int:
    if args.action == "hash-password":
        return _hash_password(args, out, err)
    from monitor import logs
    from monitor.config import ConfigError, load_config
    from monitor.store.db import make_engine, migrate
    from monitor.web.server import serve

    if not args.config:
        raise ConfigError(["no config file given: pass -c /etc/mention-monitor/config.yaml"])
    config = load_config(args.config)
    if args.listen:
        dash = config.dashboard.model_copy(update={"listen": args.listen})
        config = config.model_copy(update={"dashboard": dash})
    logs.setup(config.logging.level, config.logging.format)
    if not config.dashboard.users and not config.dashboard.proxy_auth_header:
        err.print(
            "[yellow]warning[/]: no dashboard.users and no proxy_auth_header: nobody can log in "
            "(make a login with `mention-monitor web hash-password`)"
        )
    engine = make_engine(config.storage.url.get_secret_value())
    migrate(engine)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    err.print(
        f"dashboard on {config.dashboard.public_url or 'http://' + config.dashboard.listen} (Ctrl-C stops)"
    )
    try:
        serve(engine, config, stop)
    except OSError as exc:
        err.print(f"[red]error[/]: cannot listen on {config.dashboard.listen}: {exc} (set dashboard.listen)")
        return EXIT_FAILED
    finally:
        engine.dispose()
    return EXIT_OK
