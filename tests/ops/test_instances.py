"""Several instances on one PostgreSQL database: start together, fail over within the limit, exactly once.

Daemons are real subprocesses (``mention-monitor run``); alerts really go through
Apprise to a web-hook receiver in this process.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from monitor.cli import main
from monitor.store import models as m
from monitor.store.db import make_engine
from tests.alerts.conftest import Receiver
from tests.core.test_daemon import expected_ids
from tests.fakes.server import Response
from tests.ops.conftest import START_TIMEOUT, wait_for, write_config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _state(url: str) -> dict:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.dialect.has_table(conn, "source_cursor"):  # the daemons have not migrated yet
                return {"cursor": {}, "ids": [], "authors": 0, "deliveries": []}
            row = conn.execute(select(m.SourceCursor.__table__)).mappings().first()
            ids = conn.execute(select(m.Mention.__table__.c.external_id)).scalars().all()
            authors = conn.execute(select(func.sum(m.Author.__table__.c.mentions_total))).scalar() or 0
            d, a = m.AlertDelivery.__table__, m.AlertOutbox.__table__
            deliveries = conn.execute(
                select(d.c.id, d.c.status, d.c.claimed_by, d.c.last_error, a.c.mention_id).select_from(
                    d.join(a, a.c.id == d.c.alert_id)
                )
            ).all()
    finally:
        engine.dispose()
    return {"cursor": dict(row) if row else {}, "ids": ids, "authors": authors, "deliveries": deliveries}


def test_three_daemons_start_together_on_an_empty_database(tmp_path, pg_url, daemons, notify_socket):
    config = write_config(
        tmp_path / "c.yaml", pg_url, sources={"simulated": {"interval": 1, "per_poll": 5, "total": 50}}
    )
    socks = [notify_socket(f"n{i}") for i in range(3)]
    procs = [
        daemons(config, name=f"d{i}", env={"NOTIFY_SOCKET": s.path, "MENTION_MONITOR_INSTANCE": f"i{i}"})
        for i, s in enumerate(socks)
    ]
    for s, d in zip(socks, procs, strict=True):
        wait_for(
            lambda s=s, d=d: (s.poll() and s.seen("READY=1")) or d.proc.poll() is not None, START_TIMEOUT
        )
        assert d.proc.poll() is None, d.log()
        assert s.seen("READY=1"), d.log()
    assert main(["db", "check", "--db", pg_url]) == 0  # one complete schema, nothing pending
    # Exactly one of them polls the source at a time; together they store the stream once.
    wait_for(lambda: len(_state(pg_url)["ids"]) >= len(expected_ids(50)), 60, "all 50 mentions stored")
    for d in procs:
        d.signal(signal.SIGTERM)
    for d in procs:
        assert d.wait(90) == 0, d.log()
        text = d.log()
        assert "Traceback" not in text and "duplicate key" not in text, text
    state = _state(pg_url)
    assert sorted(state["ids"]) == sorted(expected_ids(50)) and state["authors"] == len(state["ids"])


def test_sigkill_of_the_lease_holder_fails_over_within_the_limit_exactly_once(tmp_path, pg_url, daemons):
    arrived = threading.Event()

    def hook(_req):
        arrived.set()
        return Response(200, {"ok": True})

    with Receiver() as receiver:
        receiver.route("POST", "/hook", hook)
        config = write_config(
            tmp_path / "c.yaml",
            pg_url,
            sources={"simulated": {"interval": 0.5, "per_poll": 3}},
            alerts={
                "routes": [{"name": "all", "match": {"labels": ["complaint"]}, "notify": [receiver.hook()]}]
            },
            service={"takeover_after": 15},
        )
        a = daemons(config, name="a", env={"MENTION_MONITOR_INSTANCE": "inst-a"})
        wait_for(
            lambda: str(_state(pg_url)["cursor"].get("lease_owner") or "").startswith("inst-a/"),
            START_TIMEOUT,
            "instance a holding the lease",
        )
        b = daemons(config, name="b", env={"MENTION_MONITOR_INSTANCE": "inst-b"})
        wait_for(lambda: "mention-monitor running" in b.log(), START_TIMEOUT, "instance b running")
        wait_for(arrived.is_set, 60, "alerts arriving at the receiver")
        # b is up and skips the source (a holds it); both send alerts. Kill a mid-run.
        assert str(_state(pg_url)["cursor"]["lease_owner"]).startswith("inst-a/")
        seq_at_kill = _state(pg_url)["cursor"]["cursor"].get("seq", 0)
        killed_at = time.monotonic()
        a.signal(signal.SIGKILL)
        a.wait(30)

        def b_polls() -> bool:
            st = _state(pg_url)["cursor"]
            return (
                str(st.get("lease_owner") or "").startswith("inst-b/")
                and st["cursor"].get("seq", 0) > seq_at_kill
            )

        wait_for(b_polls, 60, f"instance b polling the source; its log:\n{b.log()}")
        takeover = time.monotonic() - killed_at
        seq_taken = _state(pg_url)["cursor"]["cursor"]["seq"]

        def settled() -> bool:
            ds = _state(pg_url)["deliveries"]
            return bool(ds) and all(row.status in ("delivered", "unknown", "gave_up") for row in ds)

        wait_for(lambda: _state(pg_url)["cursor"]["cursor"]["seq"] >= seq_taken + 30, 120, "b polling on")
        wait_for(settled, 60, "every delivery settled")
        outbox_takeover = time.monotonic() - killed_at
        b.signal(signal.SIGTERM)
        assert b.wait(90) == 0, b.log()
        state = _state(pg_url)
        posts = [p["message"] for p in receiver.posts("/hook")]

    print(f"lease takeover after SIGKILL: {takeover:.1f} s (limit 15 s)")
    assert takeover < 15.0, (takeover, b.log())
    assert "taking over from instance inst-a/" in b.log()
    # Mentions: every one of the stream stored once, none twice.
    assert sorted(state["ids"]) == sorted(expected_ids(state["cursor"]["cursor"]["seq"])), "lost or extra"
    assert state["authors"] == len(state["ids"]) == len(set(state["ids"]))
    # Alerts at the receiver: each sent once. The only exception is the faults policy's one re-send of an
    # ambiguous urgent alert, which says so in its text (followup.RESEND_NOTE).
    plain = Counter(int(re.search(r"mention #(\d+)", t).group(1)) for t in posts if "re-sent:" not in t)
    marked = Counter(int(re.search(r"mention #(\d+)", t).group(1)) for t in posts if "re-sent:" in t)
    statuses = Counter(row.status for row in state["deliveries"])
    assert statuses["delivered"] > 0 and set(statuses) <= {"delivered", "unknown"}, statuses
    assert max(plain.values()) == 1 and max(marked.values(), default=0) <= 1, (plain, marked)
    for row in state["deliveries"]:
        if row.status == "delivered":
            assert plain[row.mention_id] + marked[row.mention_id] >= 1, row
        else:  # in flight when a died (settled by b after a's claim expired), or no answer in time
            assert "interrupted" in row.last_error or "no response" in row.last_error, row
    print(f"deliveries: {dict(statuses)}; all settled {outbox_takeover:.1f} s after the kill")


def test_replies_fail_over_and_are_posted_once(tmp_path, pg_url, daemons):
    """Kill the instance whose reply is in flight (posted, answer held back); the other takes it over."""
    import yaml

    from monitor import workflow
    from monitor.config import parse_config
    from monitor.store.db import migrate
    from tests.fakes.mastodon import FakeMastodon
    from tests.responder.conftest import config_data, ingest

    with FakeMastodon() as fake:
        for i in range(6):
            fake.add_mention(f"order {i} never arrived, please help", author=f"cust{i}")
        data = config_data(fake, storage={"url": pg_url}, service={"takeover_after": 15})
        data["sources"]["mastodon"]["enabled"] = False  # the test stores the mentions itself, once
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump(data))
        config = parse_config(data)
        engine = make_engine(pg_url)
        migrate(engine)
        data["sources"]["mastodon"]["enabled"] = True
        ids = ingest(engine, parse_config(data), "mastodon")
        assert len(ids) == 6
        fake.hold_posts()  # the first reply is stored by the platform, its answer held back
        a = daemons(str(path), name="a", env={"MENTION_MONITOR_INSTANCE": "inst-a"})
        b = daemons(str(path), name="b", env={"MENTION_MONITOR_INSTANCE": "inst-b"})
        for d in (a, b):
            wait_for(lambda d=d: "mention-monitor running" in d.log(), START_TIMEOUT, "both running")
        for mid in ids:
            workflow.request_reply(engine, config, mid, text="Sorry! We're on it.", actor="agent")
        wait_for(fake.post_accepted.is_set, 60, "a reply reaching the platform")
        t = m.ReplyOutbox.__table__
        with engine.connect() as conn:
            held_id, holder = conn.execute(
                select(t.c.id, t.c.claimed_by).where(t.c.status == "sending").order_by(t.c.id)
            ).first()
        victim, survivor = (a, b) if holder.startswith("inst-a/") else (b, a)
        killed_at = time.monotonic()
        victim.signal(signal.SIGKILL)
        victim.wait(30)
        fake.release_posts()

        def taken_over() -> bool:
            with engine.connect() as conn:
                row = conn.execute(select(t.c.status, t.c.claimed_by).where(t.c.id == held_id)).one()
            return row.claimed_by != holder

        wait_for(taken_over, 60, "the in-flight reply taken over")
        takeover = time.monotonic() - killed_at

        def all_sent() -> bool:
            with engine.connect() as conn:
                statuses = conn.execute(select(t.c.status)).scalars().all()
            return len(statuses) == 6 and all(s == "sent" for s in statuses)

        wait_for(all_sent, 90, f"every reply sent; survivor log:\n{survivor.log()[-3000:]}")
        took = time.monotonic() - killed_at
        survivor.signal(signal.SIGTERM)
        assert survivor.wait(90) == 0
        per_parent = Counter(s["in_reply_to_id"] for s in fake.replies)
        engine.dispose()
    print(f"replies: in-flight one taken over {takeover:.1f} s, all 6 sent {took:.1f} s after the kill")
    assert takeover < 15.0, takeover
    assert len(per_parent) == 6 and set(per_parent.values()) == {1}, per_parent
