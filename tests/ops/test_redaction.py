"""Secrets never reach the logs (any level) nor the output of check-config, sources and alerts."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor import logs
from monitor.config import parse_config
from monitor.store import models as m
from monitor.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("pw-SECRET-98765", "tok-SECRET-123456", "hook-SECRET-4242", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")


def _config(tmp_path: Path, db: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"""
brand: {{names: [Acme]}}
sources:
  mastodon:
    api_base: "http://bob:{SECRETS[0]}@127.0.0.1:1"
    access_token: "{SECRETS[1]}"
    interval: 10
alerts:
  routes: [{{name: urgent, match: {{priority: [P1]}}, notify: ["json://alice:{SECRETS[2]}@127.0.0.1:1/hook"]}}]
  operators: ["tgram://123456789:{SECRETS[3]}/-100123"]
storage: {{url: "{db}"}}
"""
    )
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=180, cwd=ROOT
    )


def test_debug_logs_redact_config_secrets_headers_and_url_credentials(tmp_path, capsys):
    config = parse_config(
        {
            "brand": {"names": ["Acme"]},
            "alerts": {"operators": [f"tgram://123456789:{SECRETS[3]}/-100123"]},
            "storage": {"url": "postgresql+psycopg://mm:" + SECRETS[0] + "@db.example/mm"},
        }
    )
    logs.setup("DEBUG")
    logs.register_config(config)
    log = logging.getLogger("monitor.test")
    log.debug("request headers {'Authorization': 'Bearer %s', 'Accept': 'json'}", SECRETS[1])
    log.debug("POST https://api.telegram.org/bot123456789:%s/sendMessage", SECRETS[3])
    log.info("connecting to %s", config.storage.url.get_secret_value())
    log.warning("login failed: password=%s token=%s", SECRETS[2], SECRETS[1])
    try:
        raise RuntimeError(f"boom with Bearer {SECRETS[1]}")
    except RuntimeError:
        log.exception("a traceback carries it too")
    err = capsys.readouterr().err
    for secret in SECRETS:
        assert secret not in err, (secret, err)
    # It was all logged, masked: the line stays useful.
    assert "'Authorization': '***'" in err and "mm:***@db.example/mm" in err
    assert "bot123456789:***/sendMessage" not in err or "***" in err
    assert err.count("***") >= 6


def test_check_config_sources_and_alerts_output_mask_secrets(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    config = _config(tmp_path, db)
    out = _run("check-config", "-c", str(config))
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    for secret in SECRETS:
        assert secret not in text, (secret, text)
    assert "http://bob:***@127.0.0.1:1" in text  # shown, with the password masked

    engine = make_engine(db)
    migrate(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            m.SourceCursor.__table__.insert().values(
                source="mastodon",
                platform="mastodon",
                cursor={},
                state="auth_failed",
                state_since=now,
                skipped={},
                budget={},
                updated_at=now,
                last_error=f"mastodon: 401 from http://bob:{SECRETS[0]}@127.0.0.1:1 with "
                f"Authorization: Bearer {SECRETS[1]}",
            )
        )
        alert_id = conn.execute(
            m.AlertOutbox.__table__.insert().values(
                key="k1", kind="operator", route="operators", created_at=now
            )
        ).inserted_primary_key[0]
        conn.execute(
            m.AlertDelivery.__table__.insert().values(
                alert_id=alert_id,
                destination="operators/0:x",
                destination_label="tgram://1…/…",
                status="failed",
                attempts=1,
                log=[{"detail": f"token={SECRETS[3]} refused"}],
                last_error=f"POST https://api.telegram.org/bot123456789:{SECRETS[3]}/sendMessage: 401",
            )
        )
    engine.dispose()
    for args in (
        ("sources", "-c", str(config)),
        ("sources", "-c", str(config), "--format", "json"),
        ("alerts", "-c", str(config)),
        ("alerts", "-c", str(config), "--alert", str(alert_id), "--log"),
    ):
        out = _run(*args)
        text = out.stdout + out.stderr
        assert out.returncode in (0, 1), (args, out.stderr)
        for secret in SECRETS:
            assert secret not in text, (args, secret, text)
        assert "***" in text, (args, text)  # the lines are there, masked


def test_under_journald_lines_carry_the_priority_and_stay_redacted(monkeypatch, capsys):
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    logs.setup("DEBUG")
    logs.register_secrets([SECRETS[1]])
    log = logging.getLogger("monitor.test")
    log.error("token %s refused", SECRETS[1])
    log.debug("detail")
    try:
        raise ValueError(SECRETS[1])
    except ValueError:
        log.warning("with a traceback", exc_info=True)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "<3>monitor.test: token *** refused"
    assert err[1] == "<7>monitor.test: detail"
    assert all(line.startswith("<4>") for line in err[2:]) and len(err) > 3  # one priority per line
    assert not any(SECRETS[1] in line for line in err)
