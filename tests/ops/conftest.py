"""Daemons as real subprocesses (always reaped), systemd notify sockets, waiting with deadlines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BRAND = {"names": ["Acme"], "handles": {"simulated": ["acme"]}}
# The build machine is shared and slow to import the daemon (seconds under load): generous deadlines.
START_TIMEOUT = 120.0


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:.0f}s")
        time.sleep(0.05)


def write_config(path: Path, db_url: str, **extra: Any) -> str:
    data: dict[str, Any] = {
        "brand": BRAND,
        "sources": {},
        "storage": {"url": db_url},
        "logging": {"level": "INFO"},
    }
    data.update(extra)
    path.write_text(yaml.safe_dump(data))
    return str(path)


class NotifySocket:
    """A real ``NOTIFY_SOCKET`` (AF_UNIX datagram) collecting what the daemon tells systemd."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []

    def drain(self) -> list[tuple[float, str]]:
        while True:
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                return self.messages
            self.messages.append((time.monotonic(), data.decode()))
            self.sock.settimeout(0.0)

    def poll(self) -> list[tuple[float, str]]:
        self.sock.settimeout(0.2)
        return self.drain()

    def seen(self, prefix: str) -> list[float]:
        return [t for t, msg in self.messages for line in msg.splitlines() if line.startswith(prefix)]

    def close(self) -> None:
        self.sock.close()


class Daemon:
    """``mention-monitor run`` in a subprocess; stderr goes to a file (a full pipe would block it)."""

    def __init__(self, config: str, log: Path, env: dict[str, str] | None = None, args: tuple = ()) -> None:
        self.log_path = log
        self._log = open(log, "w")  # noqa: SIM115 (closed in reap)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "-c", config, *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def reap(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()


@pytest.fixture
def daemons(tmp_path) -> Iterator[Callable[..., Daemon]]:
    """Start daemons with ``daemons(config, name=…, env=…)``; every one is killed and reaped afterwards."""
    started: list[Daemon] = []

    def start(config: str, name: str = "d", env: dict[str, str] | None = None, args: tuple = ()) -> Daemon:
        d = Daemon(config, tmp_path / f"{name}-{len(started)}.log", env, args)
        started.append(d)
        return d

    yield start
    for d in started:
        d.reap()


@pytest.fixture
def notify_socket(tmp_path) -> Iterator[Callable[[str], NotifySocket]]:
    made: list[NotifySocket] = []

    def make(name: str) -> NotifySocket:
        s = NotifySocket(tmp_path / f"{name}.notify")
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
