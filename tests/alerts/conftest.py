"""Fixtures for alert tests: real receivers on 127.0.0.1, a settable clock, scripted triage.

``engine`` comes from tests/conftest.py: each test runs on a SQLite file and on PostgreSQL.
Apprise really delivers: to a JSON web-hook receiver (``json://127.0.0.1:PORT/hook``)
and to an aiosmtpd SMTP server (``mailto://127.0.0.1:PORT?from=…&to=…``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from monitor.config import Config, parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.triage import Verdict
from tests.fakes.server import FakeServer, Request, Response


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    # A Wednesday 10:00 UTC: inside default business hours.
    return Clock(datetime(2026, 11, 18, 10, 0, tzinfo=UTC))


class Receiver(FakeServer):
    """A chat web-hook stand-in: records every JSON post; ``fail`` queues error answers."""

    def __init__(self) -> None:
        super().__init__()
        self.route_prefix("POST", "/", lambda req: Response(200, {"ok": True}))

    def hook(self, path: str = "/hook", **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"json://{self.url.split('://', 1)[1]}{path}" + (f"?{query}" if query else "")

    def posts(self, path: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests if path is None or r.path == path]

    def received(self, path: str | None = None) -> list[Request]:
        return [r for r in self.requests if path is None or r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)

    def url(self, to: str = "agent@example.com") -> str:
        return f"mailto://{self.host}:{self.port}?from=monitor@example.com&to={to}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    box = Mailbox("127.0.0.1", free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


class ScriptedTriager:
    """Triage is not under test here: the verdict comes from ``mention.raw`` so each case is exact."""

    def assess(self, mention: Mention, context: Any) -> Verdict:
        raw = mention.raw
        return Verdict(
            polarity=raw.get("polarity", -0.7),
            subjectivity=0.5,
            label=raw.get("label", "complaint"),
            urgency=raw.get("urgency", 60),
            priority=raw.get("priority", "P2"),
            reasons=tuple(raw.get("reasons", ("negative -0.70",))),
            severity=raw.get("severity"),
        )


def make_config(alerts: dict[str, Any] | None = None, **extra: Any) -> Config:
    data: dict[str, Any] = {"brand": {"names": ["Acme"]}}
    if alerts is not None:
        data["alerts"] = alerts
    data.update(extra)
    return parse_config(data)


_seq = iter(range(1, 1_000_000))


def mention(
    clock_now: datetime,
    *,
    text: str = "@Acme you charged me twice",
    handle: str | None = None,
    platform: str = "x",
    followers: int | None = 120,
    priority: str = "P2",
    label: str = "complaint",
    urgency: int = 60,
    language: str | None = "en",
    conversation: str | None = None,
    ago: timedelta = timedelta(seconds=30),
    polarity: float = -0.7,
    severity: str | None = None,
    reasons: tuple[str, ...] | None = None,
) -> Mention:
    n = next(_seq)
    return Mention(
        platform=platform,
        external_id=f"post-{n}",
        text=text,
        created_at=clock_now - ago,
        author_handle=handle or f"user{n}",
        author_followers=followers,
        url=f"https://{platform}.example/post/{n}",
        language=language,
        conversation_id=conversation,
        raw={
            "priority": priority,
            "label": label,
            "urgency": urgency,
            "polarity": polarity,
            "severity": severity,
            **({"reasons": reasons} if reasons is not None else {}),
        },
    )


def pipeline(engine: Engine, config: Config, clock: Clock) -> Pipeline:
    return Pipeline(engine, config, triager=ScriptedTriager(), clock=clock)  # type: ignore[arg-type]
