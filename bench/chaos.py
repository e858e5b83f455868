"""Fault run: the real daemon under 429 storms, 5xx, slow/cut-off/garbage answers, a failing chat
target, SIGKILLs and a PostgreSQL restart, while mentions keep flowing — then exactly-once is checked.

    python bench/chaos.py                      # PostgreSQL of its own (initdb/pg_ctl), ~6 minutes
    python bench/chaos.py --db sqlite          # no database restart
    python bench/chaos.py --quick              # one short episode of each kind (~1-2 minutes)

Fake Mastodon, Hacker News and Bluesky servers (tests/fakes) publish marked brand mentions at
``--rate`` per second; every stored mention alerts a web-hook receiver on 127.0.0.1. One episode
at a time: a fault is injected for ``--fault-seconds`` (a platform misbehaving, the receiver failing
or hanging), or the daemon is SIGKILLed at a random point and restarted, or the PostgreSQL server is
restarted. After each, the time until everything published so far is stored *and* alerted is the
"back to steady state" time, printed next to its bound: one poll interval plus the backoff the
daemon had scheduled when the fault ended. At the end, served vs stored (lost, duplicated) and
alerts due vs received (lost, unmarked duplicates, marked repeats) — the target is 0 lost and 0
duplicated. Exit status 1 when anything was lost or duplicated, or the daemon crashed.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor.config import parse_config
from monitor.store import models as m
from monitor.store.db import make_engine, migrate
from tests.harness import ledger
from tests.harness.daemon import DaemonProcess, bench_config, wait_for
from tests.harness.platforms import FAULT_KINDS, Platforms
from tests.harness.postgres import TempPostgres
from tests.harness.receiver import AlertReceiver

INTERVAL = 10.0  # the sources' poll interval (the smallest the config allows)


@dataclass
class Episode:
    name: str
    ended_at: float = 0.0
    bound: float = 0.0  # one poll interval + the backoff scheduled when the fault ended
    recovered_in: float | None = None  # None: not back within the deadline
    stored_in: float | None = None  # of which: until everything published was stored
    restart: float = 0.0  # SIGKILL episodes: seconds the restarted daemon took to start


@dataclass
class ChaosReport:
    episodes: list[Episode] = field(default_factory=list)
    tally: ledger.Tally | None = None
    crashed: list[str] = field(default_factory=list)  # daemon exits nobody asked for
    exit_code: int | None = None
    kills: int = 0
    published: int = 0
    replies: dict[str, int] = field(default_factory=dict)  # queued, posted, lost, duplicated, states

    @property
    def ok(self) -> bool:
        replies_ok = not (self.replies.get("lost") or self.replies.get("duplicated"))
        return bool(
            self.tally and self.tally.clean and replies_ok and not self.crashed and self.exit_code == 0
        )

    def lines(self) -> list[str]:
        out = [f"{'episode':<36}{'stored (s)':>11}{'steady (s)':>11}{'bound (s)':>10}  within"]
        for e in self.episodes:
            rec = f"{e.recovered_in:.1f}" if e.recovered_in is not None else "not back"
            stored = f"{e.stored_in:.1f}" if e.stored_in is not None else "not back"
            within = "yes" if e.recovered_in is not None and e.recovered_in <= e.bound else "NO"
            out.append(f"{e.name:<36}{stored:>11}{rec:>11}{e.bound:>10.1f}  {within}")
        if self.tally:
            out.extend(self.tally.lines())
        out.append(
            f"daemon SIGKILLed {self.kills}x; unexpected exits: {len(self.crashed)}; "
            f"final exit {self.exit_code}"
        )
        r = self.replies
        out.append(
            f"replies queued {r.get('queued', 0)}, posted {r.get('posted', 0)}: lost {r.get('lost', 0)}, "
            f"duplicated {r.get('duplicated', 0)} (outbox: "
            f"{', '.join(f'{k} {v}' for k, v in sorted(r.items()) if k.startswith('status:')) or 'empty'})"
        )
        return out


class Chaos:
    """One fault run; :meth:`run` returns the report (bench/chaos.py and tests/faults use it)."""

    def __init__(
        self,
        workdir: Path,
        *,
        db: str = "postgres",
        rate: float = 4.0,
        fault_seconds: float = 8.0,
        kills: int = 5,
        seed: int = 1,
        quick: bool = False,
        burst: bool = False,
        recovery_deadline: float = 120.0,
        log: Any = print,
    ) -> None:
        self.workdir = Path(workdir)
        self.db = db
        self.rate = rate
        self.fault_seconds = fault_seconds
        self.kills = kills
        self.rng = random.Random(seed)
        self.quick = quick
        self.burst = burst
        self.recovery_deadline = recovery_deadline
        self.log = log
        self.report = ChaosReport()
        self.config: Any = None
        self._stop_publishing = threading.Event()
        self._served: list[str] = []
        self._served_lock = threading.Lock()

    # -- pieces ---------------------------------------------------------------------
    def _publisher(self, platforms: Platforms) -> None:
        # A steady trickle: one mention every 1/rate s, round-robin over the platforms.
        step = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop_publishing.is_set():
            toks = platforms.publish(1)
            with self._served_lock:
                self._served.extend(toks)
            next_at += step
            self._stop_publishing.wait(max(0.0, next_at - time.monotonic()))

    def _queue_replies(self, engine: Engine, config: Any, n: int) -> int:
        """Agents answer ``n`` recent Mastodon/Bluesky mentions (the daemon's responder posts them)."""
        from monitor import workflow

        t = m.Mention.__table__
        with engine.connect() as conn:
            ids = (
                conn.execute(
                    select(t.c.id)
                    .where(
                        t.c.platform.in_(("mastodon", "bluesky")),
                        t.c.id.not_in(select(m.ReplyOutbox.__table__.c.mention_id)),
                    )
                    .order_by(t.c.id.desc())
                    .limit(n)
                )
                .scalars()
                .all()
            )
        queued = 0
        for mention_id in ids:
            try:
                workflow.request_reply(
                    engine, config, mention_id, text="Sorry about that, we're on it.", actor="chaos"
                )
                queued += 1
            except Exception as exc:  # a conflict or a refusal is not what this run measures
                self.log(f"  reply to mention {mention_id} not queued: {exc}")
        return queued

    def _replies_settled(self, engine: Engine) -> bool:
        r = m.ReplyOutbox.__table__
        with engine.connect() as conn:
            return not conn.execute(
                select(func.count()).where(r.c.status.in_(("pending", "sending")))
            ).scalar_one()

    def _reply_tally(self, engine: Engine, platforms: Platforms) -> dict[str, int]:
        from collections import Counter

        r = m.ReplyOutbox.__table__
        t = m.Mention.__table__
        with engine.connect() as conn:
            queued = (
                conn.execute(select(t.c.external_id).select_from(r.join(t, t.c.id == r.c.mention_id)))
                .scalars()
                .all()
            )
            states = dict(conn.execute(select(r.c.status, func.count()).group_by(r.c.status)).all())
        posted: Counter[str] = Counter()
        if "mastodon" in platforms.servers:
            posted.update(str(s.get("in_reply_to_id")) for s in platforms.servers["mastodon"].replies)
        if "bluesky" in platforms.servers:
            posted.update(
                str(((p.get("record") or {}).get("reply") or {}).get("parent", {}).get("uri"))
                for p in platforms.servers["bluesky"].replies
            )
        out = {
            "queued": len(queued),
            "posted": sum(posted[x] for x in queued),
            "lost": sum(1 for x in queued if not posted[x]),
            "duplicated": sum(posted[x] - 1 for x in queued if posted[x] > 1),
        }
        out.update({f"status:{k}": v for k, v in states.items()})
        return out

    def served(self) -> list[str]:
        with self._served_lock:
            return list(self._served)

    def _stored(self, engine: Engine, sources: list[str], upto: list[str]) -> bool:
        try:
            stored = ledger.stored_tokens(engine, sources)
        except Exception:  # the database may still be coming back
            return False
        return all(t in stored for t in upto)

    def _steady(self, engine: Engine, sources: list[str], receiver: AlertReceiver, upto: list[str]) -> bool:
        if not self._stored(engine, sources, upto):
            return False
        arrived = receiver.first_arrival()
        return all(t in arrived for t in upto)

    def _bound(self, engine: Engine, sources: list[str], at: float) -> float:
        """One poll interval plus the longest backoff a source had scheduled at ``at``."""
        try:
            polls = ledger.next_polls(engine, sources)
        except Exception:
            return INTERVAL
        when = datetime.fromtimestamp(at, UTC)
        waits = [(p - when).total_seconds() for p in polls.values() if p is not None]
        return INTERVAL + max([0.0, *waits]) + 2.0  # + the notifier's resend grace

    def _measure(
        self,
        episode: Episode,
        engine: Engine,
        sources: list[str],
        receiver: AlertReceiver,
        daemon: DaemonProcess,
        *,
        restart: bool = False,
    ) -> None:
        upto = self.served()
        episode.ended_at = time.time()
        t0 = time.monotonic()
        if restart:
            # After a SIGKILL the bound also holds the daemon's own start-up (imports, migrations).
            daemon.start()
            episode.restart = daemon.wait_running() or 0.0
        episode.bound = self._bound(engine, sources, episode.ended_at) + episode.restart
        if wait_for(lambda: self._stored(engine, sources, upto), self.recovery_deadline, 0.25):
            episode.stored_in = time.monotonic() - t0
        back = wait_for(lambda: self._steady(engine, sources, receiver, upto), self.recovery_deadline, 0.25)
        episode.recovered_in = time.monotonic() - t0 if back else None
        if not daemon.alive:
            self.report.crashed.append(f"after {episode.name}: {daemon.log_tail(5)}")
            daemon.start()
        self.report.episodes.append(episode)
        rec = f"{episode.recovered_in:.1f} s" if episode.recovered_in is not None else "NOT back"
        self.log(
            f"  {episode.name}: stored in {episode.stored_in or -1:.1f} s, back to steady in {rec} "
            f"(bound {episode.bound:.1f} s)"
        )

    # -- the run ----------------------------------------------------------------------
    def run(self) -> ChaosReport:
        pg: TempPostgres | None = None
        if self.db == "postgres":
            pg = TempPostgres()
            pg.init()
            pg.start()
            url = pg.url
        else:
            url = f"sqlite:///{self.workdir / 'chaos.db'}"
        try:
            with Platforms() as platforms, AlertReceiver() as receiver:
                return self._run(platforms, receiver, url, pg)
        finally:
            if pg is not None:
                pg.close()

    def _run(
        self, platforms: Platforms, receiver: AlertReceiver, url: str, pg: TempPostgres | None
    ) -> ChaosReport:
        engine = make_engine(url)
        migrate(engine)
        sources = [platforms.source_name(k) for k in platforms.servers]
        data = bench_config(platforms, receiver, url, interval=INTERVAL)
        self.config = parse_config(data)
        daemon = DaemonProcess(self.workdir / "daemon", data)
        daemon.start()
        sc = m.SourceCursor.__table__

        def first_polls_done() -> bool:
            with engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(sc)).scalar_one() >= len(sources)

        if not wait_for(first_polls_done, 60):
            raise SystemExit(f"the daemon did not poll its sources:\n{daemon.log_tail()}")
        publisher = threading.Thread(target=self._publisher, args=(platforms,), daemon=True)
        publisher.start()
        self.log(
            f"daemon up on {self.db}; publishing {self.rate:g} mentions/s on {', '.join(platforms.servers)}"
        )
        time.sleep(2)
        try:
            if self.burst:
                self._burst(platforms, receiver, engine, sources, daemon, pg)
            else:
                self._episodes(platforms, receiver, engine, sources, daemon, pg)
        except BaseException:
            daemon.kill()  # interrupted (Ctrl-C, SIGTERM): leave no daemon behind
            raise
        finally:
            self._stop_publishing.set()
            publisher.join(10)
        final = Episode("final drain")
        self._measure(final, engine, sources, receiver, daemon)
        if not wait_for(lambda: self._replies_settled(engine), self.recovery_deadline, 0.5):
            self.log("  replies still pending at the end")
        time.sleep(2)  # anything extra (a duplicate) would arrive now
        self.report.exit_code = daemon.stop()
        self.report.published = len(self.served())
        self.report.tally = ledger.tally(engine, self.served(), sources, receiver)
        self.report.replies = self._reply_tally(engine, platforms)
        engine.dispose()
        return self.report

    def _episodes(
        self,
        platforms: Platforms,
        receiver: AlertReceiver,
        engine: Engine,
        sources: list[str],
        daemon: DaemonProcess,
        pg: TempPostgres | None,
    ) -> None:
        """One fault at a time, each followed by the wait for steady state."""
        kinds = list(platforms.servers)
        # Platform faults: each kind on one platform (all platforms at once with --quick).
        for i, fault in enumerate(FAULT_KINDS):
            targets = kinds if self.quick else [kinds[i % len(kinds)]]
            self._queue_replies(engine, self.config, 3)  # replies in flight through the fault
            for k in targets:
                platforms.faults[k].inject(fault, self.fault_seconds)
            time.sleep(self.fault_seconds)
            for k in targets:
                platforms.faults[k].clear()
            self._measure(Episode(f"{fault} on {'+'.join(targets)}"), engine, sources, receiver, daemon)
            if self.quick and i >= 2:
                # The quick run: the rest of the kinds in one combined episode.
                rest = FAULT_KINDS[i + 1 :]
                for j, k in enumerate(kinds):
                    platforms.faults[k].inject(rest[j % len(rest)], self.fault_seconds)
                time.sleep(self.fault_seconds)
                for k in kinds:
                    platforms.faults[k].clear()
                self._measure(Episode(f"{'/'.join(rest)} mixed"), engine, sources, receiver, daemon)
                break
        # The chat target: fails, then hangs past the send deadline, then recovers.
        receiver.set_mode("fail")
        time.sleep(self.fault_seconds)
        receiver.set_mode("ok")
        self._measure(Episode("receiver fails (500)"), engine, sources, receiver, daemon)
        receiver.set_mode("hang", hang_seconds=5.0)
        time.sleep(self.fault_seconds)
        receiver.set_mode("ok")
        self._measure(Episode("receiver hangs (5 s > 2 s)"), engine, sources, receiver, daemon)
        # SIGKILL at random points, restarting each time.
        for n in range(self.kills):
            self._queue_replies(engine, self.config, 3)
            time.sleep(self.rng.uniform(0.3, 4.0))
            daemon.kill()
            self.report.kills += 1
            self._measure(Episode(f"SIGKILL #{n + 1}"), engine, sources, receiver, daemon, restart=True)
        # SIGKILL while the receiver holds a request (mid-send).
        receiver.set_mode("hang", hang_seconds=30.0)
        wait_for(lambda: receiver.mode == "hang" and len(receiver.arrivals) > 0, 5)
        before = len(receiver.arrivals)
        wait_for(lambda: len(receiver.arrivals) > before, 20, 0.05)
        daemon.kill()
        self.report.kills += 1
        receiver.set_mode("ok")
        self._measure(Episode("SIGKILL mid-send"), engine, sources, receiver, daemon, restart=True)
        if pg is not None:
            pg.restart()
            self._measure(Episode("PostgreSQL restart"), engine, sources, receiver, daemon)

    def _burst(
        self,
        platforms: Platforms,
        receiver: AlertReceiver,
        engine: Engine,
        sources: list[str],
        daemon: DaemonProcess,
        pg: TempPostgres | None,
    ) -> None:
        """Every fault kind in one short overlapping burst, then one wait (the test suite's variant)."""
        kinds = list(platforms.servers)
        t = m.Mention.__table__

        def answerable() -> int:
            with engine.connect() as conn:
                return conn.execute(
                    select(func.count()).where(t.c.platform.in_(("mastodon", "bluesky")))
                ).scalar_one()

        wait_for(lambda: answerable() >= 12, 30)  # something for agents to answer first
        rounds = [FAULT_KINDS[i::2] for i in range(2)]  # two rounds cover the six kinds
        for r, plan in enumerate(rounds):
            self._queue_replies(engine, self.config, 4)  # replies in flight through the faults
            for j, k in enumerate(kinds):
                platforms.faults[k].inject(plan[j % len(plan)], self.fault_seconds)
            receiver.set_mode("fail" if r == 0 else "hang", hang_seconds=4.0)
            time.sleep(self.fault_seconds)
        for k in kinds:
            platforms.faults[k].clear()
        # SIGKILL while the receiver holds a request, then once more at a random point.
        receiver.set_mode("hang", hang_seconds=30.0)
        before = len(receiver.arrivals)
        wait_for(lambda: len(receiver.arrivals) > before, 20, 0.05)
        daemon.kill()
        self.report.kills += 1
        receiver.set_mode("ok")
        daemon.start()
        for _ in range(self.kills - 1):
            self._queue_replies(engine, self.config, 4)
            time.sleep(self.rng.uniform(1.0, 3.0))
            daemon.kill()
            self.report.kills += 1
            daemon.start()
        if pg is not None:
            pg.restart()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--rate", type=float, default=4.0, help="mentions published per second")
    parser.add_argument("--fault-seconds", type=float, default=8.0)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="fewer, combined episodes")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (daemon log, database)")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C: the daemon and the private PostgreSQL are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="mm-chaos-"))
    started = time.monotonic()
    chaos = Chaos(
        workdir,
        db=args.db,
        rate=args.rate,
        fault_seconds=args.fault_seconds,
        kills=args.kills,
        seed=args.seed,
        quick=args.quick,
    )
    report = chaos.run()
    print()
    for line in report.lines():
        print(line)
    print(f"({time.monotonic() - started:.0f} s; work directory {workdir}{'' if args.keep else ', removed'})")
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
