"""The CLI as a pipeline member: `mentions | head` ends quietly when the reader leaves."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from monitor.store import tables
from monitor.store.db import make_engine, migrate


def test_listing_into_a_closed_pipe_exits_141_without_a_traceback(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    rows = [
        {
            "platform": "x",
            "external_id": str(n),
            "source": "x",
            "author_handle": f"user{n}",
            "text": f"Acme order {n} never arrived, " + "still waiting " * 8,
            "created_at": now,
            "fetched_at": now,
        }
        for n in range(1500)
    ]
    with engine.begin() as conn:
        conn.execute(tables.mention.insert(), rows)
    engine.dispose()
    # More than a pipe buffer (64 KiB) of table lines, so the writer is still writing when the
    # reader closes its end after the first line.
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "mentions", "--limit", "1500", "--db", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().startswith("id")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
