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
