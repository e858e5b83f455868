"""A new user's first config: the shipped example passes as is, and unusable settings are refused early.

Each test here reproduces a defect a first run hit (issue 15): secrets demanded by disabled
sources, chat targets Apprise cannot use, an X source without a token, a weak dashboard secret.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_VARS = (
    "X_BEARER_TOKEN",
    "MASTODON_TOKEN",
    "BLUESKY_APP_PASSWORD",
    "REDDIT_CLIENT_SECRET",
    "REDDIT_PASSWORD",
    "SLACK_WEBHOOK",
    "MENTION_MONITOR_SECRET",
)


def cli() -> str:
    found = Path(sys.executable).with_name("mention-monitor")
    return str(found) if found.exists() else (shutil.which("mention-monitor") or "mention-monitor")


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


def brand() -> dict:
    return {"names": ["Acme"]}


# ----------------------------------------------------------------------------- item 1


def test_copied_example_passes_check_config_in_a_clean_environment(tmp_path):
    """`cp config.example.yaml config.yaml; mention-monitor check-config -c config.yaml`, no secrets set."""
    shutil.copy(ROOT / "config.example.yaml", tmp_path / "config.yaml")
    env = {k: v for k, v in os.environ.items() if k not in EXAMPLE_VARS}
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(
        [cli(), "check-config", "-c", "config.yaml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "config OK" in proc.stderr and "sources enabled: simulated" in proc.stderr


def test_disabled_source_needs_no_secret_but_keeps_its_typo_checks(monkeypatch):
    monkeypatch.delenv("MM_UNSET_TOKEN", raising=False)
    config = parse_config(
        {
            "brand": brand(),
            "sources": {
                "mastodon": {"enabled": False, "access_token": "${MM_UNSET_TOKEN}"},
                "bluesky": {"enabled": False},
            },
        }
    )
    assert set(config.sources) == {"mastodon", "bluesky"} and config.enabled_sources() == {}
    # A typo in a disabled source is still reported: enabling it later must not surprise anyone.
    problems = problems_of({"brand": brand(), "sources": {"mastodon": {"enabled": False, "intervall": 60}}})
    assert problems == ["sources.mastodon.intervall: unknown key; did you mean 'interval'?"]
    # Enabled, the same source still requires the secret.
    problems = problems_of(
        {
            "brand": brand(),
            "sources": {"mastodon": {"api_base": "https://m.example", "access_token": "${MM_UNSET_TOKEN}"}},
        }
    )
    assert problems == [
        "sources.mastodon.access_token: environment variable MM_UNSET_TOKEN is not set "
        "(export it, give a default as ${MM_UNSET_TOKEN:-value}, or use a *_file key)"
    ]


# ----------------------------------------------------------------------------- item 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("slakc://nothing", "unknown Apprise scheme 'slakc://'; did you mean 'slack://'?"),
        ("not a url at all", "not an Apprise URL"),
        ("slack://", "slack:// URL is incomplete"),
    ],
)
def test_unusable_notify_url_is_refused_naming_route_and_index(url, expected):
    (line,) = problems_of(
        {
            "brand": brand(),
            "alerts": {
                "routes": [
                    {"name": "urgent", "match": {"priority": "P1"}, "notify": ["console://", url]},
                ]
            },
        }
    )
    assert line.startswith("alerts.routes.0: route 'urgent', notify[1]: ")
    assert expected in line
    assert "nothing" not in line  # the rest of the URL may be a token: never echoed


def test_operator_targets_are_checked_too_and_good_urls_pass():
    (line,) = problems_of({"brand": brand(), "alerts": {"operators": ["console://", "discord://"]}})
    assert line.startswith("alerts.operators: operators[1]: discord:// URL is incomplete")
    config = parse_config(
        {
            "brand": brand(),
            "alerts": {
                "routes": [
                    {"name": "r", "notify": ["slack://T1/B2/C3", "mailto://a@example.com", "console://"]}
                ]
            },
        }
    )
    assert len(config.alerts.routes[0].notify) == 3


def test_loading_the_config_does_not_import_apprise_when_targets_are_not_checked(tmp_path):
    """Commands that only need storage.url stay fast: Apprise (~0.3 s) is loaded by the check alone."""
    path = tmp_path / "config.yaml"
    path.write_text("brand: {names: [Acme]}\nalerts: {routes: [{name: r, notify: ['slakc://x']}]}\n")
    code = (
        "import sys; from monitor.config import load_config; "
        f"c = load_config({str(path)!r}, check_targets=False); "
        "print('apprise' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


# ----------------------------------------------------------------------------- item 8


def test_enabled_x_source_without_token_is_refused(monkeypatch):
    (line,) = problems_of({"brand": brand(), "sources": {"x": {"username": "acme"}}})
    assert line.startswith("sources.x.bearer_token: required when the source is enabled")
    assert "enabled: false" in line
    # Disabled, it is fine.
    parse_config({"brand": brand(), "sources": {"x": {"enabled": False}}})


def test_short_dashboard_secret_is_refused_with_how_to_generate_one():
    (line,) = problems_of({"brand": brand(), "dashboard": {"secret_key": "hunter"}})
    assert line.startswith("dashboard.secret_key: must be at least 32 characters, got 6")
    assert "secrets.token_urlsafe(32)" in line and "hunter" not in line


def test_enabled_dashboard_needs_a_secret():
    (line,) = problems_of({"brand": brand(), "dashboard": {"enabled": True}})
    assert line.startswith("dashboard: secret_key is required when enabled is true")
    assert "secrets.token_urlsafe(32)" in line
    ok = parse_config({"brand": brand(), "dashboard": {"enabled": True, "secret_key": "k" * 32}})
    assert ok.dashboard.secret_key is not None
    # An empty value (``${MENTION_MONITOR_SECRET:-}``) means "no secret": ack links stay off.
    assert parse_config({"brand": brand(), "dashboard": {"secret_key": ""}}).dashboard.secret_key is None


# ----------------------------------------------------------------------------- item 5


def _route(match: dict) -> dict:
    return {"name": "r", "match": match, "notify": ["console://"]}


def _routed(match: dict, priority: str) -> bool:
    from datetime import UTC, datetime

    from monitor.alerts.routing import select_routes
    from monitor.mention import Mention
    from monitor.triage import Verdict

    now = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    config = parse_config({"brand": brand(), "alerts": {"routes": [_route(match)]}})
    mention = Mention(platform="x", external_id="1", text="Acme", created_at=now, author_handle="a")
    verdict = Verdict(polarity=0, subjectivity=0, label="complaint", urgency=50, priority=priority)
    return bool(select_routes(mention, verdict, config.alerts, now))


def test_priority_list_is_exact_and_priority_at_least_includes_more_urgent():
    assert [p for p in ("P1", "P2", "P3") if _routed({"priority": ["P3"]}, p)] == ["P3"]
    assert [p for p in ("P1", "P2", "P3") if _routed({"priority": ["P1", "P3"]}, p)] == ["P1", "P3"]
    assert [p for p in ("P1", "P2", "P3") if _routed({"priority_at_least": "P2"}, p)] == ["P1", "P2"]


def test_a_single_priority_keeps_its_old_meaning_and_says_so():
    """Existing configs keep working: ``priority: P2`` is "P2 or more urgent", shown as priority_at_least."""
    assert [p for p in ("P1", "P2", "P3") if _routed({"priority": "P2"}, p)] == ["P1", "P2"]
    config = parse_config({"brand": brand(), "alerts": {"routes": [_route({"priority": "P2"})]}})
    assert config.alerts.routes[0].match.priority_at_least == "P2"
    assert config.alerts.routes[0].match.priority == []
    (line,) = problems_of(
        {"brand": brand(), "alerts": {"routes": [_route({"priority": "P2", "priority_at_least": "P1"})]}}
    )
    assert "alerts.routes.0.match" in line and "priority_at_least" in line and "not both" in line


def test_example_digest_route_takes_only_p3(monkeypatch):
    from monitor.config import load_config

    for var in EXAMPLE_VARS:
        monkeypatch.delenv(var, raising=False)
    config = load_config(ROOT / "config.example.yaml")
    digest = next(r for r in config.alerts.routes if r.name == "digest")
    assert digest.match.priority == ["P3"] and digest.match.priority_at_least is None
    urgent = next(r for r in config.alerts.routes if r.name == "urgent")
    assert urgent.match.priority == ["P1"]


# ----------------------------------------------------------------------------- item 9


def test_install_steps_never_name_an_unpublished_package():
    """mention-monitor is not on PyPI: docs, the unit and error hints install the checkout or a wheel."""
    import re

    unit = (ROOT / "systemd" / "mention-monitor.service").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    texts = {p: p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]}
    texts.update({p: p.read_text(encoding="utf-8") for p in (ROOT / "monitor").rglob("*.py")})
    texts[ROOT / "systemd" / "mention-monitor.service"] = unit
    unpublished = re.compile(r"pip install\s+['\"]?mention-monitor\b")
    assert [str(p) for p, text in texts.items() if unpublished.search(text)] == []
    assert "python3 -m build --wheel" in readme and "pip install ." in readme
    (line,) = re.findall(r"^Documentation=(.+)$", unit, re.MULTILINE)
    # The README's steps install what the unit points at: `install … -t DIR FILE…`.
    (install,) = [s for s in readme.splitlines() if "install" in s and "/usr/share/doc/" in s]
    for doc in line.split():
        assert "pypi.org" not in doc and doc.startswith("file://")
        path = Path(doc.removeprefix("file://"))
        assert str(path.parent) in install and path.name in install, doc
