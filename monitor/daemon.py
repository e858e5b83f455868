"""The long-running service: one thread per source, the notifier, heartbeat, signals, systemd.

``READY=1`` goes to systemd once every source is scheduled, ``STATUS=`` lines say
what it is doing, ``STOPPING=1`` when a stop is requested. ``WATCHDOG=1`` is sent
only while every scheduler and notifier loop is alive (:mod:`monitor.liveness`):
a hung loop stops the feeding and systemd restarts the service. The same
heartbeat renews this instance's source leases and delivery claims, so another
instance takes over within ``service.takeover_after`` when this one dies or hangs.
SIGTERM/SIGINT: a poll in progress finishes and commits before its thread exits,
so a stop never loses or half-writes a page. SIGHUP: the config file is read
again; a bad one is rejected with a log line and the running config kept.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from monitor import liveness, logs
from monitor.alerts.notifier import Notifier
from monitor.config import Config, ConfigError, load_config
from monitor.liveness import Liveness, Outage
from monitor.pipeline import Clock, Pipeline, utcnow
from monitor.responder.sender import Sender
from monitor.scheduler import LEASE_SHARE, RETRY_SHARE, PollOutcome, SourceRunner
from monitor.sources import Source, source_class
from monitor.store import claims
from monitor.store import models as m
from monitor.store.db import describe_error, make_engine, migrate
from monitor.systemd import notify, watchdog_interval
from monitor.web import wanted as web_wanted

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 60.0  # seconds all threads together get to finish their commits (unit: TimeoutStopSec=90)


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
        config_path: str | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path  # SIGHUP reads it again
        logs.register_config(config)
        self.clock = clock
        self.alerts_enabled = alerts_enabled
        self.engine = engine or make_engine(config.storage.url.get_secret_value())
        migrate(self.engine)
        self.stop = threading.Event()
        self.failed = False  # set when the daemon gives up (database gone too long): exit 1
        svc = config.service
        self.liveness = Liveness(svc.stall_after)
        self.outage = Outage()
        self.owner = claims.holder()
        self.notifier = Notifier(self.engine, config, clock=clock)
        self.notifier.claim_ttl = svc.takeover_after * LEASE_SHARE
        self.notifier.outage = self.outage
        self.pipeline = self._pipeline(config)
        self.sources = build_sources(config)
        self.runners = [self._runner(name, src) for name, src in self.sources.items()]
        self._runner_threads: dict[str, threading.Thread] = {}
        self._threads: list[threading.Thread] = []
        self._reload = threading.Event()
        self._status = ""
        self._stall_reported = False
        self.extra_services: list[Callable[[threading.Event], None]] = []
        # The responder: sends queued replies once, runs auto-acknowledge (monitor/responder/sender.py).
        self.responder = Sender(self.engine, config, clock=clock)
        # The heartbeat renews reply claims like delivery claims, so an expired one is a dead or hung
        # instance's: another takes the reply over within takeover_after (it looks on the platform first).
        self.responder.ttl = svc.takeover_after * LEASE_SHARE
        self.responder.outage = self.outage
        self.responder.recover_every = svc.takeover_after * RETRY_SHARE
        if config.responder.enabled:
            self.extra_services.append(self.responder.run)
        if web_wanted(config):  # the dashboard and the acknowledge/claim links (uvicorn in a thread)
            from monitor.web import server as web  # FastAPI, uvicorn: ~10 MB, imported only to serve

            self.extra_services.append(functools.partial(web.serve, self.engine, config, clock=clock))
        if svc.health_listen:  # /healthz and /metrics on their own port (also with the dashboard off)
            from monitor.web import health

            self.extra_services.append(functools.partial(health.serve, self.engine, config, clock=clock))

    def _pipeline(self, config: Config) -> Pipeline:
        return Pipeline(
            self.engine,
            config,
            clock=self.clock,
            alerts_enabled=self.alerts_enabled,
            on_alerts=self.notifier.wake,
        )

    def _runner(self, name: str, source: Source) -> SourceRunner:
        return SourceRunner(
            name,
            source,
            self.pipeline,
            self.engine,
            clock=self.clock,
            owner=self.owner,
            stop=threading.Event(),  # its own, so SIGHUP can stop one source; shutdown sets them all
            takeover_after=self.config.service.takeover_after,
            loop=self.liveness.register(f"source:{name}"),
            outage=self.outage,
        )

    # -- one pass, for cron -------------------------------------------
    def poll_once(self) -> list[PollOutcome]:
        outcomes = [runner.poll() for runner in self.runners]
        for runner in self.runners:
            runner.release()
        self.notifier.deliver_due()
        if self.config.responder.enabled:
            self.responder.send_due()
            self.responder.close()
        return outcomes

    # -- the service ---------------------------------------------------
    def _start_runner(self, runner: SourceRunner) -> None:
        t = threading.Thread(target=runner.run, name=f"source:{runner.name}", daemon=True)
        runner.loop.thread = t
        t.start()
        self._runner_threads[runner.name] = t

    def start(self) -> None:
        liveness.PROCESS = liveness.ProcessState(liveness=self.liveness, outage=self.outage)
        if not self.runners:
            log.warning(
                "no enabled sources in the config: nothing will be polled (see sources: in the config)"
            )
        for runner in self.runners:
            self._start_runner(runner)
        self.notifier.loop = self.liveness.register("notifier")
        t = threading.Thread(target=self.notifier.run, args=(self.stop,), name="notifier", daemon=True)
        self.notifier.loop.thread = t
        t.start()
        self._threads.append(t)
        for service in self.extra_services:
            t = threading.Thread(
                target=self._guard, args=(service,), name=_service_name(service), daemon=True
            )
            t.start()
            self._threads.append(t)
        names = ", ".join(f"{r.name} every {r.interval:g}s" for r in self.runners) or "none"
        log.info("mention-monitor running as %s; sources: %s", self.owner, names)
        self._status = f"polling {len(self.runners)} source(s) as {self.owner}"
        notify(f"READY=1\nSTATUS={self._status}")

    def _guard(self, service: Callable[[threading.Event], None]) -> None:
        """Run an auxiliary service; if it dies, say why once and keep monitoring."""
        try:
            service(self.stop)
        except OSError as exc:
            log.error(
                "%s could not start: %s (check dashboard.listen / service.health_listen in the config); "
                "monitoring goes on",
                _service_name(service),
                exc,
            )
        except Exception:
            log.exception("%s stopped unexpectedly; monitoring goes on without it", _service_name(service))

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if not self.stop.is_set():
            if signum is not None:
                log.info("received %s, shutting down after in-flight work", signal.Signals(signum).name)
            notify("STOPPING=1\nSTATUS=stopping: finishing in-flight polls and sends")
            self.stop.set()
            for runner in self.runners:
                runner.stop.set()

    def request_reload(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        self._reload.set()  # handled by the main loop, not inside the signal handler

    # -- SIGHUP ----------------------------------------------------------
    def reload(self) -> bool:
        """Read the config file again and apply it; a bad file is rejected and the running config kept."""
        if not self.config_path:
            log.warning("SIGHUP ignored: the daemon was not started from a config file")
            return False
        notify(f"RELOADING=1\nSTATUS=reloading {self.config_path}")
        try:
            new = load_config(self.config_path)
            pipeline = Pipeline(
                self.engine,
                new,
                clock=self.clock,
                alerts_enabled=self.alerts_enabled,
                on_alerts=self.notifier.wake,
            )
            # Only new or changed sources are built (a changed brand changes every source's queries).
            fresh = {
                name: source_class(settings.platform or name)(name, settings, new.brand)
                for name, settings in new.enabled_sources().items()
                if name not in self.sources
                or self.sources[name].settings != settings
                or new.brand != self.config.brand
            }
        except ConfigError as exc:
            problems = "; ".join(exc.problems)
            log.error(
                "config reload rejected, still running the previous config: %s: %s",
                self.config_path,
                problems,
            )
            notify(f"READY=1\nSTATUS={self._status} (last reload rejected: see the log)")
            return False
        except Exception as exc:  # a source or model that cannot be built from the new settings
            log.error(
                "config reload rejected, still running the previous config: %s: %s: %s",
                self.config_path,
                type(exc).__name__,
                exc,
            )
            notify(f"READY=1\nSTATUS={self._status} (last reload rejected: see the log)")
            return False
        old = self.config
        logs.register_config(new)
        if new.storage.url != old.storage.url:
            log.warning(
                "storage.url changed: that takes effect after a restart (still using the old database)"
            )
        wanted = set(new.enabled_sources())
        gone = [r for r in self.runners if r.name not in wanted or r.name in fresh]
        for runner in gone:  # removed or changed: stop it after its current poll (cursor stays in the db)
            runner.stop.set()
        for runner in gone:
            t = self._runner_threads.pop(runner.name, None)
            deadline = time.monotonic() + SHUTDOWN_GRACE
            while t is not None and t.is_alive() and time.monotonic() < deadline:
                t.join(1.0)
                if watchdog_interval() and self.heartbeat(renew=False):
                    notify("WATCHDOG=1")  # a slow poll finishing must not get us killed meanwhile
            self.liveness.unregister(f"source:{runner.name}")
            try:
                runner.source.close()
            except Exception:
                log.debug("closing source %s failed", runner.name, exc_info=True)
        kept = [r for r in self.runners if r not in gone]
        self.pipeline = pipeline
        self.config = new
        for runner in kept:
            runner.pipeline = pipeline  # new triage and routing settings from the next page on
        self.notifier.reconfigure(new)
        self.responder.reconfigure(new)
        added = []
        for name, src in fresh.items():
            self.sources[name] = src
            runner = self._runner(name, src)
            kept.append(runner)
            added.append(runner)
        for runner in gone:
            if runner.name not in fresh:
                self.sources.pop(runner.name, None)
        self.runners = kept
        for runner in added:
            self._start_runner(runner)
        logging.getLogger().setLevel(new.logging.level)
        changed = sorted(set(fresh) & {r.name for r in gone})
        log.info(
            "config reloaded from %s: sources added %s, removed %s, restarted with new settings %s; "
            "routes %s; triage settings applied",
            self.config_path,
            ", ".join(sorted(set(fresh) - set(changed))) or "none",
            ", ".join(sorted(r.name for r in gone if r.name not in fresh)) or "none",
            ", ".join(changed) or "none",
            ", ".join(r.name for r in new.alerts.routes) or "none",
        )
        self._status = f"polling {len(self.runners)} source(s) as {self.owner}"
        notify(f"READY=1\nSTATUS={self._status} (config reloaded)")
        return True

    # -- heartbeat -------------------------------------------------------
    def heartbeat(self, *, renew: bool = True) -> bool:
        """One beat: True when every loop is alive (feed the watchdog); renews leases and claims then."""
        stalled = self.liveness.stalled()
        if stalled:
            if not self._stall_reported:
                self._stall_reported = True
                log.error(
                    "hung: %s; no longer feeding the systemd watchdog nor renewing leases and claims, "
                    "so systemd restarts this instance and others take over its work",
                    ", ".join(stalled),
                )
                notify(f"STATUS=hung: {', '.join(stalled)}")
            return False
        if self._stall_reported:
            self._stall_reported = False
            log.warning("all loops are running again")
            notify(f"STATUS={self._status}")
        if renew:
            now = self.clock()
            try:
                held = sum(runner.renew_lease(now) for runner in list(self.runners))
                status = f"polling {held} of {len(self.runners)} source(s) as {self.owner}" + (
                    "; the others are polled by other instances" if held < len(self.runners) else ""
                )
                if status != self._status and not self.outage.duration():
                    self._status = status
                    notify(f"STATUS={status}")
                self.notifier.renew_claims(now)
                with self.engine.begin() as conn:  # the responder's reply claims carry the same holder id
                    claims.renew(conn, m.ReplyOutbox.__table__, owner=self.owner, now=now)
            except DBAPIError as exc:
                self.outage.failed("heartbeat", describe_error(exc, self.engine.url))
        self._check_outage()
        return True

    def _check_outage(self) -> None:
        svc = self.config.service
        down = self.outage.duration()
        if not down:
            if self._status.startswith("database"):
                self._status = f"polling {len(self.runners)} source(s) as {self.owner}"
                notify(f"STATUS={self._status}")
            return
        status = f"database unreachable for {down:.0f}s; retrying"
        if status != self._status and int(down) % 5 == 0:
            self._status = status
            notify(f"STATUS={status}")
        if svc.db_alert_after and down >= svc.db_alert_after and not self.outage.alerted:
            self.outage.alerted = True
            threading.Thread(
                target=self._alert_operators, args=(down,), name="db-outage-alert", daemon=True
            ).start()
        if svc.db_fail_after and down >= svc.db_fail_after and not self.failed:
            self.failed = True
            log.critical(
                "database unreachable for %.0fs (service.db_fail_after=%.0f): giving up so the service "
                "manager restarts this instance; last error: %s",
                down,
                svc.db_fail_after,
                self.outage.last_error,
            )
            self.request_stop()

    def _alert_operators(self, down: float) -> None:
        """The outbox lives in the database that is gone: tell operators directly through Apprise."""
        from monitor.alerts import compose, delivery
        from monitor.alerts.settings import OPERATORS_ROUTE

        targets = self.notifier.by_route.get(OPERATORS_ROUTE) or []
        title = "mention-monitor: database unreachable"
        body = (
            f"Instance {self.owner} cannot reach its database for {down:.0f}s: {self.outage.last_error}. "
            "Polling and alerts are paused; nothing already fetched is lost."
        )
        log.error("%s (%s); telling %d operator target(s)", title, body, len(targets))
        for target in targets:
            try:
                outcome = delivery.send(
                    target, compose.operator_message(title, body), timeout=self.config.alerts.send_timeout
                )
                log.info("operator alert to %s: %s", target.label, outcome.status)
            except Exception:
                log.exception("operator alert to %s failed", target.label)

    # -- stop --------------------------------------------------------------
    def shutdown(self) -> bool:
        """Wait for every thread; True when all finished in time."""
        self.request_stop()
        clean = not self.failed
        deadline = time.monotonic() + SHUTDOWN_GRACE
        for t in [*self._runner_threads.values(), *self._threads]:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                log.error("thread %s did not finish within %.0fs", t.name, SHUTDOWN_GRACE)
                clean = False
        for src in self.sources.values():
            try:
                src.close()
            except Exception:  # closing is best effort at exit
                log.debug("closing source %s failed", src.name, exc_info=True)
        self.engine.dispose()
        if liveness.PROCESS is not None and liveness.PROCESS.liveness is self.liveness:
            liveness.PROCESS = None  # a stopped daemon no longer speaks for this process's health
        log.info("mention-monitor stopped")
        return clean

    def run_forever(self, *, install_signals: bool = True, duration: float | None = None) -> bool:
        """Start, block until a signal (or ``duration`` seconds), shut down cleanly."""
        if install_signals:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
            signal.signal(signal.SIGHUP, self.request_reload)
        self.start()
        ping = watchdog_interval()
        renew_every = self.config.service.takeover_after * RETRY_SHARE
        tick = min(ping or 1.0, renew_every, 1.0)
        started = last_renew = time.monotonic()
        while not self.stop.wait(tick):
            if self._reload.is_set():
                self._reload.clear()
                self.reload()
            now = time.monotonic()
            renew = now - last_renew >= renew_every
            if renew:
                last_renew = now
            alive = self.heartbeat(renew=renew)
            if ping and alive:
                notify("WATCHDOG=1")
            if duration is not None and now - started >= duration:
                break
        return self.shutdown()
