"""The real daemon as a subprocess: ``python -m monitor run -c config.yaml``, killed and restarted at will."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


class DaemonProcess:
    """Writes the config, starts/kills/stops the daemon, and reads its peak RSS from /proc."""

    def __init__(self, workdir: Path, config: dict[str, Any], *, env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = self.workdir / "daemon.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self.peak_rss_kb = 0

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "-c", str(self.config_path)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        log.close()
        self.starts += 1

    def wait_running(self, timeout: float = 120) -> float | None:
        """Seconds until this start logged "running" (imports, migrations, sources scheduled), or None."""
        started = time.monotonic()
        want = self.starts
        if wait_for(lambda: self.log_text().count("mention-monitor running as") >= want, timeout, 0.1):
            return time.monotonic() - started
        return None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sample_rss(self) -> int:
        """VmHWM (peak resident set) of the running daemon in KiB; the maximum seen is kept."""
        if not self.alive:
            return self.peak_rss_kb
        assert self.proc is not None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
        except OSError:
            pass
        return self.peak_rss_kb

    def kill(self) -> None:
        """SIGKILL: no cleanup, no commit of what is in flight."""
        if self.alive:
            assert self.proc is not None
            self.sample_rss()
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
            self.kills += 1

    def stop(self, timeout: float = 90) -> int | None:
        """SIGTERM and wait, as systemd does; returns the exit code."""
        if self.proc is None:
            return None
        if self.alive:
            self.sample_rss()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        return self.proc.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def wait_for(predicate: Any, timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; returns the last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def bench_config(
    platforms: Any,
    receiver: Any,
    db_url: str,
    *,
    interval: float = 10,
    source_timeout: float = 3.0,
    send_timeout: float = 2.0,
    resend_after: float = 2.0,
) -> dict[str, Any]:
    """The daemon config for bench/chaos runs: every stored mention alerts the receiver once.

    Storm folding, the per-author window and escalation are off so "alerts due" is exactly one
    per stored mention; every priority gets its one marked re-send after an ambiguous send, so
    nothing due may go missing.
    """
    return {
        "brand": platforms.brand(),
        "sources": platforms.sources(interval=interval, timeout=source_timeout),
        "alerts": {
            "routes": [{"name": "all", "match": {}, "notify": [receiver.hook()]}],
            "author_window_minutes": 0,
            "incidents": {"enabled": False},
            "escalation": {"enabled": False},
            "send_timeout": send_timeout,
            "retry": {"base_delay": 1, "max_delay": 5, "max_attempts": 100},
            "ambiguous": {"resend_after": resend_after, "resend_priorities": ["P1", "P2", "P3"]},
        },
        # Replies agents queue go out through the same fakes; short retries for a bounded run.
        "responder": {"base_delay": 1, "max_delay": 5, "send_timeout": 5},
        "storage": {"url": db_url},
        "logging": {"level": "INFO"},
    }
