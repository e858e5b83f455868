"""What every dashboard handler reads: the config, the engine, the clock, the signing key, templates.

One :class:`WebContext` lives on ``app.state.ctx``; routers get it with
``Depends(get_ctx)`` so a handler never reaches for globals, and tests build an
app with their own clock and database.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy.engine import Engine

from monitor.config import Config

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class NavItem:
    """A top-level page in the header (routers added later, e.g. reports, register one)."""

    label: str
    path: str
    key: str


@dataclass
class WebContext:
    config: Config
    engine: Engine
    clock: Clock = utcnow
    secret: bytes = b""
    nav: list[NavItem] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.secret:
            key = self.config.dashboard.secret_key
            if key is not None:
                self.secret = key.get_secret_value().encode()
            else:
                # Sessions then end when the process restarts, and ack links are off.
                log.warning(
                    "dashboard.secret_key is not set: logins last until the next restart; "
                    "set it (e.g. ${MENTION_MONITOR_SECRET}) to keep sessions and turn on ack links"
                )
                self.secret = secrets.token_bytes(32)

    @property
    def https(self) -> bool:
        return (self.config.dashboard.public_url or "").startswith("https://")


def get_ctx(request: Request) -> WebContext:
    return request.app.state.ctx
