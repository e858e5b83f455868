"""The README's first command: the demo runs with zero configuration and prints alerts and a summary."""

from __future__ import annotations

import re
import subprocess
import sys


def test_demo_once_prints_alerts_and_summary(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--once", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # An urgent complaint reached the console route (its title names its severity).
    assert re.search(r"P1 (severe |moderate |mild )?complaint on simulated", out), out
    assert "Mentions by label and priority" in out and "complaint" in out and "praise" in out
    assert "mentions stored" in out and f"mention-monitor mentions --db {db}" in out
