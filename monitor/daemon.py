"""The long-running service: one thread per source, the notifier, clean shutdown on SIGTERM/SIGINT.

``READY=1`` goes to systemd once every source is scheduled; ``STOPPING=1`` when a
stop is requested. A poll in progress finishes and commits before its thread
exits, so a stop never loses or half-writes a page.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from sqlalchemy.engine import Engine

from monitor.alerts.notifier import Notifier
from monitor.config import Config
from monitor.pipeline import Clock, Pipeline, utcnow
from monitor.scheduler import PollOutcome, SourceRunner, instance_id
from monitor.sources import Source, source_class
from monitor.store.db import make_engine, migrate
from monitor.systemd import notify, watchdog_interval
from monitor.web import server as web

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 60.0  # seconds each thread gets to finish its commit


def _service_name(service: Callable[..., object]) -> str:
    func = getattr(service, "func", service)
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__name__', 'service')}".strip(".")


def build_sources(config: Config) -> dict[str, Source]:
    """Instantiate every enabled source from its settings."""
    built = {}
    for name, settings in config.enabled_sources().items():
        cls = source_class(settings.platform or name)
        built[name] = cls(name, settings, config.brand)
    return built


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        engine: Engine | None = None,
        clock: Clock = utcnow,
        alerts_enabled: bool = True,
    ) -> None:
        self.config = config
        self.engine = engine or make_engine(config.storage.url.get_secret_value())
        migrate(self.engine)
        self.stop = threading.Event()
        self.notifier = Notifier(self.engine, config, clock=clock)
        self.pipeline = Pipeline(
            self.engine, config, clock=clock, alerts_enabled=alerts_enabled, on_alerts=self.notifier.wake
        )
        owner = instance_id()
        self.sources = build_sources(config)
        self.runners = [
            SourceRunner(name, src, self.pipeline, self.engine, clock=clock, owner=owner, stop=self.stop)
            for name, src in self.sources.items()
        ]
        self._threads: list[threading.Thread] = []
        self.extra_services: list[Callable[[threading.Event], None]] = []
        if web.wanted(config):  # the dashboard and the acknowledge/claim links (uvicorn in a thread)
            self.extra_services.append(functools.partial(web.serve, self.engine, config, clock=clock))

    # -- one pass, for cron -------------------------------------------
    def poll_once(self) -> list[PollOutcome]:
        outcomes = [runner.poll() for runner in self.runners]
        for runner in self.runners:
            runner.release()
        self.notifier.deliver_due()
        return outcomes

    # -- the service ---------------------------------------------------
    def start(self) -> None:
        if not self.runners:
            log.warning(
                "no enabled sources in the config: nothing will be polled (see sources: in the config)"
            )
        for runner in self.runners:
            t = threading.Thread(target=runner.run, name=f"source:{runner.name}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self.notifier.run, args=(self.stop,), name="notifier", daemon=True)
        t.start()
        self._threads.append(t)
        for service in self.extra_services:
            t = threading.Thread(
                target=self._guard, args=(service,), name=_service_name(service), daemon=True
            )
            t.start()
            self._threads.append(t)
        names = ", ".join(f"{r.name} every {r.interval:g}s" for r in self.runners) or "none"
        log.info("mention-monitor running; sources: %s", names)
        notify(f"READY=1\nSTATUS=polling {len(self.runners)} source(s)")

    def _guard(self, service: Callable[[threading.Event], None]) -> None:
        """Run an auxiliary service; if it dies, say why once and keep monitoring."""
        try:
            service(self.stop)
        except OSError as exc:
            log.error(
                "%s could not start: %s (check dashboard.listen in the config); monitoring goes on",
                _service_name(service),
                exc,
            )
        except Exception:
            log.exception("%s stopped unexpectedly; monitoring goes on without it", _service_name(service))

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if not self.stop.is_set():
            if signum is not None:
                log.info("received %s, shutting down after in-flight work", signal.Signals(signum).name)
            notify("STOPPING=1")
            self.stop.set()

    def shutdown(self) -> bool:
        """Wait for every thread; True when all finished in time."""
        self.request_stop()
        clean = True
        for t in self._threads:
            t.join(SHUTDOWN_GRACE)
            if t.is_alive():
                log.error("thread %s did not finish within %.0fs", t.name, SHUTDOWN_GRACE)
                clean = False
        for src in self.sources.values():
            try:
                src.close()
            except Exception:  # closing is best effort at exit
                log.debug("closing source %s failed", src.name, exc_info=True)
        self.engine.dispose()
        log.info("mention-monitor stopped")
        return clean

    def run_forever(self, *, install_signals: bool = True, duration: float | None = None) -> bool:
        """Start, block until a signal (or ``duration`` seconds), shut down cleanly."""
        if install_signals:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        self.start()
        ping = watchdog_interval()
        tick = min(ping, 1.0) if ping else 1.0
        waited = 0.0
        while not self.stop.wait(tick):
            waited += tick
            if ping:
                notify("WATCHDOG=1")
            if duration is not None and waited >= duration:
                break
        return self.shutdown()
