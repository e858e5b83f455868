"""Is the daemon alive: each loop's heartbeat, and how long the database has been out of reach.

The systemd watchdog is fed only while every registered loop is either idle
(waiting for its next turn) or busy for less than ``stall_after`` seconds, so a
scheduler or notifier thread stuck on a hung call stops the feeding and systemd
restarts the service. The same answer gates lease and claim renewal: a hung
instance stops renewing, and a live one takes its sources and sends over.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Loop:
    """One loop's heartbeat: ``busy()`` before a step, ``idle()`` after it."""

    name: str
    busy_since: float | None = None
    last_beat: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    def busy(self) -> None:
        self.busy_since = self.last_beat = time.monotonic()

    def beat(self) -> None:
        """Progress inside a long step (a page stored, a send finished)."""
        if self.busy_since is not None:
            self.busy_since = time.monotonic()
        self.last_beat = time.monotonic()

    def idle(self) -> None:
        self.busy_since = None
        self.last_beat = time.monotonic()


class Liveness:
    """The set of loops the watchdog vouches for."""

    def __init__(self, stall_after: float) -> None:
        self.stall_after = stall_after
        self._loops: dict[str, Loop] = {}
        self._lock = threading.Lock()

    def register(self, name: str) -> Loop:
        with self._lock:
            loop = self._loops[name] = Loop(name)
        return loop

    def unregister(self, name: str) -> None:
        with self._lock:
            self._loops.pop(name, None)

    def stalled(self, now: float | None = None) -> list[str]:
        """Names of loops stuck in one step longer than ``stall_after``, or whose thread died."""
        now = time.monotonic() if now is None else now
        with self._lock:
            loops = list(self._loops.values())
        bad = []
        for loop in loops:
            if loop.thread is not None and not loop.thread.is_alive():
                bad.append(f"{loop.name} (thread ended)")
            elif loop.busy_since is not None and now - loop.busy_since > self.stall_after:
                bad.append(f"{loop.name} (busy {now - loop.busy_since:.0f}s)")
        return bad


class Outage:
    """How long the database has been unreachable; logged once when it goes and once when it comes back."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.last_error: str = ""
        self.alerted = False
        self._lock = threading.Lock()

    def failed(self, what: str, error: str) -> None:
        with self._lock:
            self.last_error = error
            if self.since is None:
                self.since = time.monotonic()
                log.error("database unreachable (%s): %s; retrying with backoff", what, error)

    def ok(self) -> None:
        with self._lock:
            if self.since is not None:
                log.warning("database reachable again after %.0fs", time.monotonic() - self.since)
            self.since = None
            self.alerted = False

    def duration(self, now: float | None = None) -> float:
        since = self.since
        if since is None:
            return 0.0
        return (time.monotonic() if now is None else now) - since


@dataclass
class ProcessState:
    """What only the running daemon knows: its loops and the database outage it sees."""

    liveness: Liveness | None = None
    outage: Outage | None = None
    extras: dict[str, object] = field(default_factory=dict)


# Set by the daemon at start (cleared when it stops); None in a process that only serves the web app.
# /healthz and /metrics (monitor.web.health) read it; it lives here so the daemon sets it without
# importing the web stack (FastAPI) when neither the dashboard nor health_listen is configured.
PROCESS: ProcessState | None = None
