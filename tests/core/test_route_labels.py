"""Alert routes name triage's labels; a misspelt one would make a route that never fires."""

from __future__ import annotations

import pytest

from monitor.config import ConfigError, parse_config


def _problems(alerts: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config({"brand": {"names": ["Acme"]}, "alerts": alerts})
    return info.value.problems


def test_a_route_with_an_unknown_label_is_refused_by_name() -> None:
    (problem,) = _problems(
        {"routes": [{"name": "team", "match": {"labels": ["complain"]}, "notify": ["json://x"]}]}
    )
    assert problem.startswith("alerts.routes.0.match.labels.0: must be one of")
    assert "'complaint'" in problem and "'unscored'" in problem and "got 'complain'" in problem


def test_incident_labels_are_checked_too() -> None:
    (problem,) = _problems({"incidents": {"labels": ["complaints"]}})
    assert problem.startswith("alerts.incidents.labels.0: must be one of") and "got 'complaints'" in problem


def test_every_triage_label_is_accepted() -> None:
    labels = ["complaint", "question", "praise", "neutral", "spam", "unscored"]
    config = parse_config(
        {
            "brand": {"names": ["Acme"]},
            "alerts": {"routes": [{"name": "all", "match": {"labels": labels}, "notify": ["json://x"]}]},
        }
    )
    assert config.alerts.routes[0].match.labels == labels


def test_the_config_knows_every_label_triage_gives() -> None:
    import typing

    from monitor.alerts.settings import TriageLabel
    from monitor.triage.model import LABELS

    assert set(typing.get_args(TriageLabel)) == set(LABELS)
