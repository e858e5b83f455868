"""A chat web-hook stand-in for alerts (Apprise ``json://``) that can fail, hang and recover.

Every alert that reaches it is recorded with its arrival time, the mention token it
quotes and whether it is marked as a possible repeat. ``mode`` steers the answers:
``ok`` (200), ``fail`` (500: a definite failure, not received), ``hang`` (the request is
taken — it counts as received — and the answer comes only after ``hang_seconds``,
past the sender's deadline: the ambiguous case).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.fakes.server import FakeServer, Request, Response
from tests.harness.platforms import TOKEN, quiet

MARK = "an earlier delivery may not have arrived"


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # time.time()
    token: str | None
    marked: bool
    title: str


class AlertReceiver(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.mode = "ok"
        self.hang_seconds = 10.0
        self.arrivals: list[Arrival] = []
        self.refused = 0
        self._guard = threading.Lock()
        self.route_prefix("POST", "/", self._post)

    def start(self) -> AlertReceiver:
        super().start()
        quiet(self)
        return self

    def hook(self, path: str = "/hook") -> str:
        return f"json://{self.url.split('://', 1)[1]}{path}"

    def set_mode(self, mode: str, hang_seconds: float | None = None) -> None:
        if mode not in ("ok", "fail", "hang"):
            raise ValueError(f"unknown receiver mode {mode!r}")
        if hang_seconds is not None:
            self.hang_seconds = hang_seconds
        self.mode = mode

    def _post(self, req: Request) -> Response:
        mode = self.mode
        if mode == "fail":
            with self._guard:
                self.refused += 1
            return Response(500, {"error": "chat service unavailable"})
        try:
            data: dict[str, Any] = json.loads(req.body or b"{}")
        except ValueError:
            data = {}
        message = str(data.get("message", ""))
        title = str(data.get("title", ""))
        found = TOKEN.search(message) or TOKEN.search(title)
        arrival = Arrival(time.time(), found.group(0) if found else None, MARK in message, title)
        with self._guard:
            self.arrivals.append(arrival)
        if mode == "hang":
            return Response(200, {"ok": True}, delay=self.hang_seconds)
        return Response(200, {"ok": True})

    # -- accounting ---------------------------------------------------------------
    def by_token(self) -> tuple[Counter[str], Counter[str]]:
        """(unmarked copies, marked repeats) per mention token."""
        plain: Counter[str] = Counter()
        marked: Counter[str] = Counter()
        with self._guard:
            for a in self.arrivals:
                if a.token is not None:
                    (marked if a.marked else plain)[a.token] += 1
        return plain, marked

    def first_arrival(self) -> dict[str, float]:
        out: dict[str, float] = {}
        with self._guard:
            for a in self.arrivals:
                if a.token is not None and a.token not in out:
                    out[a.token] = a.at
        return out
