"""Where the database lives when no storage.url is given (kept import-light for the CLI)."""

from __future__ import annotations

import os
from pathlib import Path


def default_database_url() -> str:
    """SQLite under systemd's StateDirectory when set, else the user's data dir."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        base = Path(state.split(":")[0])
    else:
        from platformdirs import user_data_dir

        base = Path(user_data_dir("mention-monitor", appauthor=False))
    return f"sqlite:///{base / 'mentions.db'}"


def demo_database_path() -> Path:
    """The file ``mention-monitor demo`` stores into unless given ``--db``."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("mention-monitor", appauthor=False)) / "demo.db"


def database_to_read() -> str:
    """For a command given neither -c nor --db: ``MENTION_MONITOR_DB``, else the default database,
    else (nothing monitored yet) the demo's file, so ``mentions`` right after ``demo`` shows its data."""
    chosen = os.environ.get("MENTION_MONITOR_DB")
    if chosen:
        return chosen
    url = default_database_url()
    if not Path(url.removeprefix("sqlite:///")).exists() and demo_database_path().exists():
        return f"sqlite:///{demo_database_path()}"
    return url
