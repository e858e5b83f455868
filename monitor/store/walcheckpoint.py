"""WAL checkpoints off the committing thread, for SQLite files.

SQLite's automatic checkpoint runs inside the ``COMMIT`` that pushes the WAL past
``wal_autocheckpoint`` pages: that ingest page then pays for copying the WAL into the
database file and its fsync (tens of ms on a 2 GB store, where the pages land all over
the file). Instead the engine's connections run with ``wal_autocheckpoint=0`` and, after
each commit, look at the WAL's size (``stat``). When it holds more than ``pages``
frames, a :class:`WalCheckpointer` thread runs ``PRAGMA
wal_checkpoint(PASSIVE)`` from its own connection: PASSIVE never blocks writers or
readers, and the next writer after a complete checkpoint starts the WAL over from its
beginning, so the file stays bounded under continuous ingest.

The thread starts on the first trigger and ends after ``idle`` seconds without one, so
short-lived commands and tests leave no thread behind. When the last connection to the
database closes SQLite checkpoints as before. Durability is unchanged: a commit is in
the WAL either way, and a kill -9 mid-checkpoint leaves the database intact (the WAL is
replayed on the next open).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_WAL_HEADER, _FRAME_HEADER = 32, 24


def wal_frames(wal: Path, page_size: int) -> int:
    """Frames in the WAL file, from its size alone.

    Never open the ``-wal``/``-shm`` files to look inside: closing any descriptor of a file
    drops every POSIX lock this process holds on it, SQLite's included (another process then
    re-initialises the shared-memory index under the daemon: SIGBUS). ``stat`` is safe; the
    writers' ``journal_size_limit=0`` truncates the WAL when it starts over, so its size is
    what was written since the last complete checkpoint.
    """
    try:
        size = os.stat(wal).st_size
    except OSError:
        return 0
    return max(0, size - _WAL_HEADER) // (page_size + _FRAME_HEADER)


class WalCheckpointer:
    """Checkpoints one SQLite file's WAL from a background thread when it passes ``pages`` frames."""

    def __init__(self, path: Path, pages: int = 10_000, idle: float = 5.0) -> None:
        self.path = Path(path)
        self.wal = self.path.with_name(self.path.name + "-wal")
        self.page_size = 4096  # set from the database by make_engine's connect hook
        self.pages = pages
        self.idle = idle
        self.checkpoints = 0  # completed PRAGMA wal_checkpoint calls (for tests and logs)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def after_commit(self) -> None:
        """Called when a connection goes back to the pool (after its commit): one ``stat``.

        The WAL starts over only when a write begins after a complete checkpoint. When the
        thread keeps finishing after the next write began (the WAL passed 4x ``pages``), this
        thread checkpoints once itself, between transactions, so the WAL stays bounded anyway.
        """
        frames = wal_frames(self.wal, self.page_size)
        if frames < self.pages:
            return
        if frames > 4 * self.pages:
            try:
                self.checkpoint()
            except sqlite3.Error as exc:
                log.debug("WAL checkpoint of %s failed: %s", self.path, exc)
            return
        self._wake.set()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"wal-checkpoint {self.path.name}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            if not self._wake.wait(self.idle):
                with self._lock:
                    if not self._wake.is_set():
                        self._thread = None
                        return
            self._wake.clear()
            try:
                self.checkpoint()
            except sqlite3.Error as exc:  # a busy or vanished database: the next trigger retries
                log.debug("WAL checkpoint of %s failed: %s", self.path, exc)

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint from a connection of its own: (busy, WAL frames, frames copied)."""
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
        try:
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
        self.checkpoints += 1
        return tuple(row)


def wal_checkpointer_for(database: str | None) -> WalCheckpointer | None:
    """A checkpointer for a plain SQLite file path; None for memory or URI databases."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return WalCheckpointer(Path(database).expanduser().absolute())
