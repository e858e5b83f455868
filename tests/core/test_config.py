"""Config loading: every bad input names the key, the bad value and the fix."""

from __future__ import annotations

import textwrap

import pytest

from monitor.cli import main
from monitor.config import ConfigError, load_config, parse_config


def write(tmp_path, body: str):
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def problems_of(data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


def test_minimal_config_gets_working_defaults():
    config = parse_config({"brand": {"names": ["Acme"]}})
    assert config.brand.terms == ["Acme"]
    assert config.alerts.routes[0].match.priority_at_least == "P1"
    assert config.storage.url.get_secret_value().startswith("sqlite:///")
    assert config.sources == {}


def test_interval_below_minimum_names_key_value_and_bound():
    problems = problems_of({"brand": {"names": ["Acme"]}, "sources": {"hackernews": {"interval": 2}}})
    assert problems == ["sources.hackernews.interval: must be ≥ 10 (seconds between polls), got 2"]


def test_unknown_key_suggests_the_right_one():
    problems = problems_of({"brand": {"names": ["Acme"], "keywrods": ["x"]}})
    assert problems == ["brand.keywrods: unknown key; did you mean 'keywords'?"]


def test_unknown_platform_lists_known_ones():
    (line,) = problems_of({"brand": {"names": ["Acme"]}, "sources": {"mastadon": {}}})
    assert line.startswith("sources.mastadon: unknown platform 'mastadon'; did you mean 'mastodon'?")
    assert "simulated" in line


def test_all_problems_reported_at_once():
    problems = problems_of(
        {
            "brand": {"names": []},
            "logging": {"level": "LOUD"},
            "alerts": {"routes": [{"name": "a", "notify": []}]},
        }
    )
    joined = "\n".join(problems)
    assert "brand.names" in joined
    assert "logging.level: must be one of" in joined and "got 'LOUD'" in joined
    assert "route 'a' has no targets" in joined


def test_env_interpolation_and_missing_variable(monkeypatch):
    monkeypatch.setenv("MM_DB", "sqlite:////tmp/from-env.db")
    config = parse_config({"brand": {"names": ["Acme"]}, "storage": {"url": "${MM_DB}"}})
    assert config.storage.url.get_secret_value() == "sqlite:////tmp/from-env.db"
    monkeypatch.delenv("MM_NOPE", raising=False)
    problems = problems_of({"brand": {"names": ["Acme"]}, "storage": {"url": "${MM_NOPE}"}})
    assert problems[0].startswith("storage.url: environment variable MM_NOPE is not set")
    config = parse_config({"brand": {"names": ["Acme"]}, "storage": {"url": "${MM_NOPE:-sqlite:///x.db}"}})
    assert config.storage.url.get_secret_value() == "sqlite:///x.db"


def test_secret_from_file_and_unreadable_file(tmp_path):
    secret = tmp_path / "db_url"
    secret.write_text("sqlite:////tmp/secret.db\n")
    config = parse_config({"brand": {"names": ["Acme"]}, "storage": {"url_file": str(secret)}})
    assert config.storage.url.get_secret_value() == "sqlite:////tmp/secret.db"
    problems = problems_of({"brand": {"names": ["Acme"]}, "storage": {"url_file": str(tmp_path / "missing")}})
    assert "cannot read" in problems[0] and "missing" in problems[0]


def test_yaml_syntax_error_gives_line(tmp_path):
    path = write(
        tmp_path,
        """
        brand:
          names: [Acme
        sources: {}
    """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "line" in info.value.problems[0] and "not valid YAML" in info.value.problems[0]


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "config.example.yaml" in info.value.problems[0]


def test_check_config_masks_secrets_and_exit_codes(tmp_path, capsys):
    good = write(
        tmp_path,
        """
        brand: {names: [Acme]}
        storage: {url: "postgresql+psycopg://bob:hunter2@db/mentions"}
        alerts:
          routes:
            - name: urgent
              match: {priority: P1}
              notify: ["slack://T000/B000/supersecrettoken"]
    """,
    )
    assert main(["check-config", "-c", str(good)]) == 0
    printed = capsys.readouterr().out
    assert "hunter2" not in printed and "supersecrettoken" not in printed
    assert "**********" in printed and "urgent" in printed
    bad = write(tmp_path, "brand: {names: [Acme]}\nsources: {simulated: {interval: -1}}\n")
    assert main(["check-config", "-c", str(bad)]) == 2
    assert "sources.simulated.interval: must be ≥ 0.05" in capsys.readouterr().err


def test_example_config_is_valid(monkeypatch):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    for var in (
        "X_BEARER_TOKEN",
        "MASTODON_TOKEN",
        "BLUESKY_APP_PASSWORD",
        "REDDIT_CLIENT_SECRET",
        "REDDIT_PASSWORD",
        "SLACK_WEBHOOK",
        "MENTION_MONITOR_SECRET",
    ):
        monkeypatch.setenv(var, "test-value")
    # Values that pass the checks of an Apprise URL and of a dashboard secret.
    monkeypatch.setenv("SLACK_WEBHOOK", "slack://T000/B000/XXXXXXXX")
    monkeypatch.setenv("MENTION_MONITOR_SECRET", "s" * 32)
    config = load_config(example)
    assert config.brand.names and set(config.sources) == {
        "x",
        "mastodon",
        "bluesky",
        "reddit",
        "hackernews",
        "simulated",
    }
    assert config.alerts.digest.route == "digest" and config.dashboard.secret_key is not None


def test_check_config_warns_of_a_model_path_the_daemon_would_run_without(tmp_path, capsys, monkeypatch):
    """`triage.model_path` naming no usable model: check-config warns (key, path, what to do) and
    exits 0, as the model is optional and the daemon runs on rules only: the systemd unit's start
    check must not stop the service (or loop restarting it) over it."""
    from monitor.triage.learned import train

    monkeypatch.chdir(tmp_path)
    model = tmp_path / "models" / "triage.json.gz"

    def check(model_path: str, extra: str = "") -> tuple[int, str]:
        config = write(tmp_path, f"brand: {{names: [Acme]}}\ntriage: {{model_path: '{model_path}'{extra}}}\n")
        capsys.readouterr()
        code = main(["check-config", "-c", str(config)])
        return code, " ".join(capsys.readouterr().err.split())

    code, said = check(str(model))
    assert code == 0
    assert f"warning: triage.model_path: no model at {model}:" in said
    assert f"mention-monitor triage-train -c {tmp_path / 'config.yaml'} --out {model}" in said
    assert "or remove triage.model_path to run triage on rules only" in said
    assert "config OK" in said
    # A relative path is read from the daemon's working directory: the message shows where that is here.
    code, said = check("models/triage.json.gz")
    assert code == 0 and f"no model at models/triage.json.gz ({model} from here)" in said
    # A real config problem is still a refusal.
    code, said = check(str(model), ", p1_urgency: 500")
    assert code == 2 and "triage.p1_urgency: must be ≤ 100, got 500" in said
    model.mkdir(parents=True)
    code, said = check(str(model))
    assert code == 0 and f"warning: triage.model_path: {model} is a directory" in said
    model.rmdir()
    model.write_text("not a model", encoding="utf-8")
    code, said = check(str(model))
    assert code == 0 and f"triage.model_path: {model} is not a readable model (" in said
    assert f"--out {model}` (or --from FILE) to replace it" in said
    assert load_config(tmp_path / "config.yaml").triage.model_path == str(model)
    # A model triage-train wrote passes without a word.
    examples = [("refund now, it broke again", "complaint"), ("lovely shop, thanks", "praise")] * 5
    train(examples).save(model)
    assert check(str(model)) == (0, f"config OK: {tmp_path / 'config.yaml'} (sources enabled: none)")
