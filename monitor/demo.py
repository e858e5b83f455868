"""``mention-monitor demo``: the whole pipeline on a simulated platform, with zero configuration.

It builds a config in code (brand "Acme", one simulated source, urgent alerts to
the console), stores into a SQLite file in the user's data dir, runs the real
daemon for a while and prints a summary table.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from monitor.config import Config, parse_config
from monitor.store import models as m
from monitor.store.location import database_to_read, demo_database_path

DEMO_BRAND = "Acme"


def demo_config(db_url: str, *, per_poll: int = 4, interval: float = 1.0) -> Config:
    return parse_config(
        {
            "brand": {"names": [DEMO_BRAND], "handles": {"simulated": ["acme"]}, "keywords": ["SmartKettle"]},
            "sources": {"simulated": {"interval": interval, "per_poll": per_poll, "seed": 16}},
            "alerts": {
                "routing": "first",
                "routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": ["console://"]}],
            },
            "storage": {"url": db_url},
        }
    )


def default_demo_db(keep: bool) -> str:
    path = demo_database_path()
    if not keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


DEMO_PORT = 8765


def demo_dashboard(port: int) -> tuple[dict, str]:
    """Dashboard settings with a login that exists only for this demo run, and its password."""
    import secrets

    from monitor.web.auth import hash_password

    password = secrets.token_urlsafe(9)
    settings = {
        "enabled": True,
        "listen": f"127.0.0.1:{port}",
        "public_url": f"http://127.0.0.1:{port}",
        "secret_key": secrets.token_urlsafe(32),
        "users": {"demo": {"password_hash": hash_password(password), "role": "manager", "name": "Demo"}},
    }
    return settings, password


def _free_port(preferred: int) -> int:
    import socket

    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def run_demo(
    *, duration: float, once: bool, db: str | None, keep: bool, out: Console, web: bool = True
) -> int:
    import sys
    import threading

    from monitor.daemon import Daemon

    logging.getLogger().setLevel(logging.WARNING)
    url = db or default_demo_db(keep)
    config = demo_config(url, per_poll=40 if once else 4)
    daemon = Daemon(config)
    out.print(
        f"[bold]mention-monitor demo[/]: simulated mentions of {DEMO_BRAND}, stored in "
        f"{url.removeprefix('sqlite:///')}"
    )
    stop_web = threading.Event()
    web_thread = None
    if web and not once:
        from monitor.web.server import serve

        settings, password = demo_dashboard(_free_port(DEMO_PORT))
        web_config = config.model_copy(
            update={
                "dashboard": parse_config({"brand": {"names": [DEMO_BRAND]}, "dashboard": settings}).dashboard
            }
        )
        web_thread = threading.Thread(
            target=serve, args=(daemon.engine, web_config, stop_web), name="demo-web", daemon=True
        )
        web_thread.start()
        out.print(
            f"[bold]Dashboard[/]: {settings['public_url']}/  log in as [bold]demo[/] / [bold]{password}[/] "
            "(a login made for this demo only)"
        )
    out.print("Urgent complaints are printed below as alerts, as they would reach your chat.\n")
    if once:
        daemon.poll_once()
    else:
        daemon.run_forever(duration=duration)
    _summary(daemon, out)
    if web_thread is not None and sys.stdin.isatty():
        out.print("\nThe dashboard stays open with the demo's mentions; press Ctrl-C to stop.")
        try:
            while web_thread.is_alive():
                web_thread.join(0.5)
        except KeyboardInterrupt:
            pass
    stop_web.set()
    if web_thread is not None:
        web_thread.join(15)
    daemon.engine.dispose()
    # Without -c/--db, `mentions` reads the demo's file while no real database exists.
    db_arg = "" if url == database_to_read() else f" --db {url}"
    out.print(f"\nExplore: mention-monitor mentions{db_arg} --label complaint")
    out.print(f"         mention-monitor show ID{db_arg}   (one mention: why it scored so, its alerts)")
    return 0


def _p1_outcomes(conn: Connection, window: float) -> tuple[int, int, Counter[str]]:
    """(P1 mentions, how many alerted, why the others did not) — read back from what was stored."""
    t, a = m.Mention.__table__, m.AlertOutbox.__table__
    p1 = conn.execute(
        select(t.c.id, t.c.platform, t.c.author_handle, t.c.conversation_id, t.c.incident_id)
        .where(t.c.priority == "P1")
        .order_by(t.c.id)
    ).all()
    sent = conn.execute(
        select(a.c.mention_id, a.c.platform, a.c.author_handle, a.c.conversation_id).where(
            a.c.kind == "mention"
        )
    ).all()
    alerted = {r.mention_id for r in sent}
    authors = {(r.platform, r.author_handle) for r in sent}
    threads = {(r.platform, r.conversation_id) for r in sent if r.conversation_id}
    why: Counter[str] = Counter()
    for row in p1:
        if row.id in alerted:
            continue
        if row.incident_id is not None:
            why["part of a complaint storm (one incident alert)"] += 1
        elif (row.platform, row.author_handle) in authors:
            why[f"author already alerted within {window:g} min"] += 1
        elif row.conversation_id and (row.platform, row.conversation_id) in threads:
            why[f"thread already alerted within {window:g} min"] += 1
        else:
            why["no route matched"] += 1
    return len(p1), sum(1 for row in p1 if row.id in alerted), why


def _summary(daemon, out: Console) -> None:  # type: ignore[no-untyped-def]
    t = m.Mention.__table__
    with daemon.engine.connect() as conn:
        rows = conn.execute(
            select(t.c.label, t.c.priority, func.count()).group_by(t.c.label, t.c.priority)
        ).all()
        alerts = conn.execute(select(func.count()).select_from(m.AlertOutbox.__table__)).scalar()
        delivered = conn.execute(
            select(func.count())
            .select_from(m.AlertDelivery.__table__)
            .where(m.AlertDelivery.__table__.c.status == "delivered")
        ).scalar()
        top = conn.execute(
            select(t.c.id, t.c.priority, t.c.urgency, t.c.author_handle, t.c.text)
            .order_by(t.c.urgency.desc(), t.c.id)
            .limit(5)
        ).all()
    table = Table(title="Mentions by label and priority")
    table.add_column("label")
    for p in ("P1", "P2", "P3"):
        table.add_column(p, justify="right")
    table.add_column("total", justify="right")
    counts: dict[str, dict[str, int]] = {}
    for label, priority, n in rows:
        counts.setdefault(label or "unscored", {})[priority or "P3"] = n
    for label in sorted(counts, key=lambda k: -sum(counts[k].values())):
        c = counts[label]
        table.add_row(label, *(str(c.get(p, 0)) for p in ("P1", "P2", "P3")), str(sum(c.values())))
    out.print()
    out.print(table)
    out.print(
        f"{sum(sum(c.values()) for c in counts.values())} mentions stored, {alerts} alert(s), "
        f"{delivered} delivered ({datetime.now(UTC):%H:%M:%S} UTC)"
    )
    window = daemon.config.alerts.author_window_minutes
    with daemon.engine.connect() as conn:
        p1, alerted, why = _p1_outcomes(conn, window)
    if p1:
        # Fewer alerts than P1s is by design (no ringing phone for every repeat): say why.
        folded = ", ".join(f"{n} folded: {reason}" for reason, n in why.most_common())
        out.print(f"{p1} P1 mention(s): {alerted} alerted" + (f", {folded}" if folded else ""))
    if top:
        out.print("\n[bold]Most urgent[/]")
        for row in top:
            out.print(
                f"  #{row.id} {row.priority} urgency {row.urgency} @{row.author_handle}: {row.text[:90]}"
            )
