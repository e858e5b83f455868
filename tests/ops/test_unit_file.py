"""The shipped systemd unit: `systemd-analyze verify` clean and an exposure score below 2.0."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "mention-monitor.service"


@pytest.fixture
def unit_copy(tmp_path) -> Path:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # The unit names /opt/mention-monitor/bin/mention-monitor; point it at this checkout's entry point.
    exe = Path(sys.executable).with_name("mention-monitor")
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text().replace("/opt/mention-monitor/bin/mention-monitor", str(exe)))
    return copy


def test_unit_verifies_clean(unit_copy):
    out = subprocess.run(["systemd-analyze", "verify", str(unit_copy)], capture_output=True, text=True)
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr


def test_unit_exposure_is_ok(unit_copy):
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(unit_copy)], capture_output=True, text=True
    )
    score = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", out.stdout)
    assert score, out.stdout + out.stderr
    assert float(score.group(1)) < 2.0 and score.group(2) == "OK", score.group(0)


def test_unit_has_what_operations_rely_on():
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "DynamicUser=yes",
        "StateDirectory=mention-monitor",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "SystemCallFilter=@system-service",
        "CapabilityBoundingSet=\n",
        "MemoryMax=",
        "Environment=MALLOC_ARENA_MAX=2",
        "LoadCredential=",
    ):
        assert line in text, line


def test_credentials_from_loadcredential_are_read_by_name(tmp_path, monkeypatch):
    from monitor.config import parse_config

    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "mastodon_token").write_text("tok-from-systemd\n")
    (creds / "database_url").write_text("postgresql+psycopg://mm:pw@db.internal/mm\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    config = parse_config(
        {
            "brand": {"names": ["Acme"]},
            "sources": {"mastodon": {"access_token_file": "mastodon_token", "api_base": "https://m.example"}},
            "storage": {"url_file": "database_url"},
        }
    )
    assert config.sources["mastodon"].access_token.get_secret_value() == "tok-from-systemd"
    assert config.storage.url.get_secret_value() == "postgresql+psycopg://mm:pw@db.internal/mm"
