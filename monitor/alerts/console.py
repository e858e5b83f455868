"""The ``console://`` Apprise target: prints alerts to standard output.

The default route and the demo use it, so a fresh install shows its alerts
without any chat account. Importing this module registers the schema with
Apprise (``monitor.alerts`` imports it, so every Apprise call of ours sees it).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from apprise.common import NotifyFormat
from apprise.decorators import notify

SCHEMA = "console"

# Two notifier threads printing at once would interleave their lines.
_lock = threading.Lock()


@notify(on=SCHEMA, name="Console (standard output)", body_format=NotifyFormat.TEXT)
def print_alert(body: str, title: str, notify_type: Any, *args: Any, **kwargs: Any) -> bool:
    """Write one alert as a framed block; always succeeds unless stdout is gone."""
    # No "[WARNING]"/"[FAILURE]" tag: the title says what it is ("P1 complaint on x", or
    # "mention-monitor: …" for the monitor's own problems), and a tag read as a system error.
    lines = ["", f"━━ {title}".rstrip(), body.rstrip(), "━━"]
    try:
        with _lock:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
    except (OSError, ValueError):
        return False  # stdout closed (daemon detached): a definite failure, retried later
    return True
