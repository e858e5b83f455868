"""Row claims: each row to one claimer, expired claims taken over, dead local holders seen at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.store import claims
from monitor.store import models as m

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _deliveries(engine, n: int) -> None:
    d = m.AlertDelivery.__table__
    with engine.begin() as conn:
        conn.execute(
            d.insert(),
            [
                {"alert_id": i, "destination": "r/0", "status": "pending", "attempts": 0, "log": []}
                for i in range(1, n + 1)
            ],
        )


def test_concurrent_claimers_never_get_the_same_row(engine):
    _deliveries(engine, 40)
    d = m.AlertDelivery.__table__
    got: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        while True:
            with engine.begin() as conn:
                row_id = claims.claim_next(
                    conn,
                    d,
                    owner=name,
                    now=NOW,
                    ttl=15,
                    where=d.c.status == "pending",
                    values={"status": "sending"},
                )
            if row_id is None:
                return
            got[name].append(row_id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    all_ids = [i for ids in got.values() for i in ids]
    assert sorted(all_ids) == list(range(1, 41))  # every row once, none twice
    with engine.connect() as conn:
        owners = dict(conn.execute(select(d.c.id, d.c.claimed_by)).all())
    for name, ids in got.items():
        assert all(owners[i] == name for i in ids)


def test_expired_claims_are_taken_over_and_renewed_ones_are_not(engine):
    _deliveries(engine, 2)
    d = m.AlertDelivery.__table__
    with engine.begin() as conn:
        assert claims.claim_row(conn, d, 1, owner="host-a/1", now=NOW, ttl=15)
        assert claims.claim_row(conn, d, 2, owner="host-a/1", now=NOW, ttl=15)
        # held: a rival cannot claim it before expiry
        assert not claims.claim_row(conn, d, 1, owner="host-b/2", now=NOW + timedelta(seconds=5), ttl=15)
        assert claims.renew(conn, d, owner="host-a/1", now=NOW + timedelta(seconds=10)) == 2
        claims.release(conn, d, 2, owner="host-a/1")
    later = NOW + timedelta(seconds=24)  # 14 s after the renewal: still held
    with engine.begin() as conn:
        assert claims.take_over(conn, d, owner="host-b/2", now=later, ttl=15) == []
        taken = claims.take_over(conn, d, owner="host-b/2", now=later + timedelta(seconds=2), ttl=15)
    assert taken == [(1, "host-a/1")]


def test_a_dead_process_of_this_instance_is_taken_over_without_waiting(engine, monkeypatch):
    import subprocess
    import sys

    monkeypatch.setenv("MENTION_MONITOR_INSTANCE", "ops-test")
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    gone = f"ops-test/{proc.pid}"
    _deliveries(engine, 1)
    d = m.AlertDelivery.__table__
    with engine.begin() as conn:
        assert claims.claim_row(conn, d, 1, owner=gone, now=NOW, ttl=15)
        assert claims.holder_dead(gone) and not claims.holder_dead(claims.holder())
        assert not claims.holder_dead("other-host/1")
        taken = claims.take_over(conn, d, owner=claims.holder(), now=NOW + timedelta(seconds=1), ttl=15)
    assert taken == [(1, gone)]


def test_a_send_whose_outcome_could_not_be_recorded_is_settled_once_its_claim_expires(engine):
    """The database went away between the send and its bookkeeping: the claim is no longer renewed."""
    from monitor.alerts import outbox
    from monitor.alerts.notifier import Notifier
    from monitor.config import parse_config

    config = parse_config({"brand": {"names": ["Acme"]}})
    notifier = Notifier(engine, config, clock=lambda: NOW)
    d = m.AlertDelivery.__table__
    with engine.begin() as conn:
        alert = conn.execute(
            m.AlertOutbox.__table__.insert().values(
                key="k", kind="operator", route="operators", created_at=NOW
            )
        ).inserted_primary_key[0]
        conn.execute(
            d.insert().values(alert_id=alert, destination="operators/0", status="pending", attempts=0, log=[])
        )
    claimed = outbox.claim(engine, 1, NOW - timedelta(seconds=60), owner=notifier.owner)
    assert claimed is not None
    assert notifier.renew_claims(NOW) == 0  # not in flight any more: not kept alive
    assert notifier.recover() == 1
    with engine.connect() as conn:
        row = conn.execute(select(d.c.status, d.c.claimed_by, d.c.last_error)).one()
    assert row.status == "unknown" and row.claimed_by is None and "interrupted" in row.last_error
