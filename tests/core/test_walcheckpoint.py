"""SQLite WAL checkpoints run off the committing thread and keep the WAL bounded under ingest."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import models as m
from monitor.store.db import make_engine, migrate
from monitor.store.walcheckpoint import wal_frames

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CONFIG = parse_config({"brand": {"names": ["Acme"], "handles": {"x": ["acme"]}}})


def ingest_pages(engine, pages: int, per_page: int = 50):
    """Ingest ``pages`` pages through the real pipeline; the WAL's length in frames after each."""
    pipeline = Pipeline(engine, CONFIG, clock=lambda: NOW)
    checkpointer = engine.wal_checkpointer
    seen = []
    for p in range(pages):
        page = [
            Mention(
                "x",
                f"{p}-{i}",
                f"Acme support ticket {p} {i} is still open",
                NOW - timedelta(seconds=p * per_page + i),
                f"user{(p * 7919 + i * 104729) % 5000}",
            )
            for i in range(per_page)
        ]
        assert pipeline.ingest(page, source="x").stored == per_page
        seen.append(wal_frames(checkpointer.wal, checkpointer.page_size))
    return seen


def test_writers_do_not_autocheckpoint(sqlite_url):
    engine = make_engine(sqlite_url)
    assert engine.wal_checkpointer is not None
    with engine.connect() as conn:
        assert conn.execute(text("pragma wal_autocheckpoint")).scalar() == 0
    engine.dispose()


def test_wal_stays_bounded_under_continuous_ingest(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(engine)
    checkpointer = engine.wal_checkpointer
    checkpointer.pages = 200  # more than one page of 50 mentions writes (~120 frames)
    ran_on = []
    checkpoint = checkpointer.checkpoint

    def recording_checkpoint():
        ran_on.append(threading.current_thread().name)
        return checkpoint()

    checkpointer.checkpoint = recording_checkpoint
    seen = ingest_pages(engine, 120)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Mention.__table__)).scalar() == 6000
    wal = tmp_path / "a.db-wal"
    page_size = 4096
    # Bounded: the inline fallback checkpoints past 4x the threshold; 8x leaves room for pages.
    bound = 8 * checkpointer.pages
    assert max(seen) <= bound
    assert wal.stat().st_size <= bound * page_size
    # Checkpoints ran, and mostly on the checkpointer's own thread, not the ingest thread.
    assert ran_on
    assert sum(name.startswith("wal-checkpoint") for name in ran_on) > len(ran_on) / 2
    engine.dispose()

    # The same ingest with no checkpoints at all grows the WAL far past that bound.
    control = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    migrate(control)
    control.wal_checkpointer.pages = 10**9
    grown = ingest_pages(control, 120)
    assert grown[-1] > 2 * bound
    assert (tmp_path / "b.db-wal").stat().st_size > 2 * bound * page_size
    control.dispose()
