"""Retention: prune is a dry run by default, empties raw payloads first, keeps open and corrected mentions
and the figures reports show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from monitor.cli import main
from monitor.store import models as m
from monitor.store.db import make_engine, migrate


def _mention(n: int, created: datetime, status: str, raw: dict) -> dict:
    return {
        "platform": "x",
        "external_id": str(n),
        "source": "x",
        "author_handle": f"a{n}",
        "text": f"acme {n}",
        "created_at": created,
        "fetched_at": created,
        "raw": raw,
        "reasons": [],
        "status": status,
        "label": "complaint",
        "priority": "P2",
    }


def _counts(engine) -> dict[str, int]:
    mt = m.Mention.__table__
    with engine.connect() as conn:
        return {
            "mentions": conn.execute(select(func.count()).select_from(mt)).scalar(),
            "alerts": conn.execute(select(func.count()).select_from(m.AlertOutbox.__table__)).scalar(),
            "deliveries": conn.execute(select(func.count()).select_from(m.AlertDelivery.__table__)).scalar(),
            "events": conn.execute(select(func.count()).select_from(m.Event.__table__)).scalar(),
        }


def _volume(engine, now: datetime) -> list:
    try:
        from monitor.reports import build
        from monitor.reports.period import ReportQuery
        from monitor.reports.settings import ReportSettings
    except ImportError:
        return []
    query = ReportQuery(start=now - timedelta(days=800), end=now, business_hours=False, range_name=None)
    return build(engine, ["volume"], query, ReportSettings(), now)["volume"].rows()


def test_prune_dry_run_then_apply(db_url, capsys):
    engine = make_engine(db_url)
    migrate(engine)
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=400), now - timedelta(days=10)
    rows = [
        _mention(1, old, "resolved", {"payload": "x" * 100}),
        _mention(2, old, "ignored", {"payload": "y"}),
        _mention(3, old, "new", {"payload": "z"}),  # open: kept (raw emptied)
        _mention(4, old, "resolved", {"payload": "w"}),  # has a label correction: kept
        _mention(5, recent, "resolved", {"payload": "v"}),  # young: untouched
    ]
    with engine.begin() as conn:
        ids = [conn.execute(m.Mention.__table__.insert().values(**r)).inserted_primary_key[0] for r in rows]
        conn.execute(
            m.LabelCorrection.__table__.insert().values(
                mention_id=ids[3], predicted="complaint", corrected="praise", actor="t", at=old
            )
        )
        alert = conn.execute(
            m.AlertOutbox.__table__.insert().values(
                key="a1", kind="mention", mention_id=ids[0], route="r", created_at=old
            )
        ).inserted_primary_key[0]
        conn.execute(
            m.AlertDelivery.__table__.insert().values(
                alert_id=alert, destination="r/0", status="delivered", attempts=1, log=[]
            )
        )
        conn.execute(
            m.Event.__table__.insert().values(
                mention_id=ids[0], action="resolve", actor="t", at=old, detail={}
            )
        )
    before_report = _volume(engine, now)
    assert not before_report or any(
        any(v for k, v in r.items() if k not in ("bucket", "platform")) for r in before_report
    )
    before = _counts(engine)

    assert main(["prune", "--older-than", "365d", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "raw payloads to empty: 4" in out and "mentions to delete:    2" in out and "dry run" in out
    assert _counts(engine) == before

    assert main(["prune", "--older-than", "365d", "--apply", "--db", db_url]) == 0
    assert "2 mention(s) deleted" in capsys.readouterr().out
    mt = m.Mention.__table__
    with engine.connect() as conn:
        left = dict(conn.execute(select(mt.c.external_id, mt.c.raw)).all())
    assert left == {"3": {}, "4": {}, "5": {"payload": "v"}}
    assert _counts(engine) == {"mentions": 3, "alerts": 0, "deliveries": 0, "events": 0}
    # The reports' figures for the pruned year are the same as before.
    assert _volume(engine, now) == before_report
    engine.dispose()
