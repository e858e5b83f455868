"""The routing table: which routes a triaged mention reaches, with business hours in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.alerts.routing import destinations, in_business_hours, select_routes
from monitor.alerts.settings import AlertSettings, BusinessHours
from monitor.config import ConfigError, parse_config
from monitor.mention import Mention
from monitor.triage import Verdict

ROUTES = {
    "business_hours": {"timezone": "Europe/Berlin", "start": "09:00", "end": "17:00"},
    "routes": [
        {"name": "vip", "match": {"min_followers": 50000}, "notify": ["json://127.0.0.1:9/vip"]},
        {
            "name": "outage",
            "match": {"keywords": ["down", "outage"], "labels": ["complaint"]},
            "notify": ["json://127.0.0.1:9/outage"],
        },
        {
            "name": "german-p2",
            "match": {"languages": ["de"], "priority": "P2"},
            "notify": ["json://127.0.0.1:9/de"],
        },
        {
            "name": "mastodon-urgent",
            "match": {"platforms": ["mastodon"], "min_urgency": 80},
            "notify": ["json://127.0.0.1:9/masto"],
        },
        {
            "name": "office",
            "match": {"priority": "P2", "business_hours": "inside"},
            "notify": ["json://127.0.0.1:9/office"],
        },
        {
            "name": "on-call",
            "match": {"priority": "P1", "business_hours": "outside"},
            "notify": ["json://127.0.0.1:9/oncall"],
        },
        {"name": "urgent", "match": {"priority": "P1"}, "notify": ["json://127.0.0.1:9/urgent"]},
    ],
}

# Wed 18 Nov 2026: 10:00 UTC is 11:00 in Berlin (inside), 20:00 UTC is 21:00 (outside).
INSIDE = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
OUTSIDE = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def _m(text="hello", platform="x", followers=10, language="en") -> Mention:
    return Mention(
        platform=platform,
        external_id="1",
        text=text,
        created_at=INSIDE,
        author_handle="a",
        author_followers=followers,
        language=language,
    )


def _v(priority="P3", label="neutral", urgency=10) -> Verdict:
    return Verdict(polarity=0, subjectivity=0, label=label, urgency=urgency, priority=priority)


CASES = [
    # (mention, verdict, now, first-match result, all-matches result)
    (_m(followers=80000), _v("P1", "complaint", 95), INSIDE, ["vip"], ["vip", "office", "urgent"]),
    (_m("Site is DOWN again"), _v("P2", "complaint"), INSIDE, ["outage"], ["outage", "office"]),
    (_m("Site is downhill"), _v("P2", "complaint"), OUTSIDE, [], []),  # whole words only
    (_m("outage?"), _v("P2", "question"), OUTSIDE, [], []),  # label must match too
    (_m("Hallo", language="de-DE"), _v("P1"), OUTSIDE, ["german-p2"], ["german-p2", "on-call", "urgent"]),
    (_m("Hallo", language="de"), _v("P3"), INSIDE, [], []),
    (_m(platform="mastodon"), _v("P3", urgency=85), INSIDE, ["mastodon-urgent"], ["mastodon-urgent"]),
    (_m(platform="mastodon"), _v("P3", urgency=79), INSIDE, [], []),
    (_m(), _v("P2"), INSIDE, ["office"], ["office"]),
    (_m(), _v("P2"), OUTSIDE, [], []),
    (_m(), _v("P2"), SATURDAY, [], []),
    (_m(), _v("P1"), OUTSIDE, ["on-call"], ["on-call", "urgent"]),
    # "priority: P2" takes P2 and anything more urgent.
    (_m(), _v("P1"), INSIDE, ["office"], ["office", "urgent"]),
    (_m(), _v("P3"), INSIDE, [], []),
]


@pytest.mark.parametrize(("mention", "verdict", "now", "first", "every"), CASES)
def test_routing_table(mention, verdict, now, first, every):
    settings = AlertSettings.model_validate({**ROUTES, "routing": "first"})
    assert [r.name for r in select_routes(mention, verdict, settings, now)] == first
    settings = AlertSettings.model_validate({**ROUTES, "routing": "all"})
    assert [r.name for r in select_routes(mention, verdict, settings, now)] == every


def test_default_route_sends_p1_to_the_console():
    settings = AlertSettings()
    assert [r.name for r in select_routes(_m(), _v("P1"), settings, INSIDE)] == ["urgent"]
    assert select_routes(_m(), _v("P2"), settings, INSIDE) == []
    assert [d.label for d in destinations(settings.routes[0])] == ["console://"]


def test_night_shift_crossing_midnight_in_local_time():
    hours = BusinessHours(timezone="America/New_York", start="22:00", end="06:00", days=["mon", "tue", "wed"])
    assert in_business_hours(hours, datetime(2026, 11, 18, 4, 0, tzinfo=UTC))  # Tue 23:00 in New York
    assert not in_business_hours(hours, datetime(2026, 11, 18, 12, 0, tzinfo=UTC))  # Wed 07:00
    assert not in_business_hours(
        hours, datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
    )  # Fri 23:00: not a shift day


def test_destination_ids_are_stable_and_hold_no_secret():
    settings = AlertSettings.model_validate(
        {"routes": [{"name": "r", "notify": ["json://user:hunter2@127.0.0.1:9/x"]}]}
    )
    first = destinations(settings.routes[0])
    again = destinations(AlertSettings.model_validate(settings.model_dump(mode="python")).routes[0])
    assert first[0].id == again[0].id
    assert "hunter2" not in first[0].id and "hunter2" not in first[0].label


SEVERITY_ROUTES = {
    "routing": "first",
    "routes": [
        {"name": "pager", "match": {"severity": ["severe"]}, "notify": ["json://127.0.0.1:9/pager"]},
        {"name": "team", "match": {"severity": "moderate"}, "notify": ["json://127.0.0.1:9/team"]},
        {"name": "rest", "match": {"labels": ["complaint"]}, "notify": ["json://127.0.0.1:9/rest"]},
    ],
}


@pytest.mark.parametrize(
    ("severity", "label", "routes"),
    [
        ("severe", "complaint", ["pager"]),
        ("moderate", "complaint", ["team"]),
        ("mild", "complaint", ["rest"]),
        (None, "complaint", ["rest"]),
        (None, "praise", []),
    ],
)
def test_routes_match_on_severity(severity, label, routes):
    settings = AlertSettings.model_validate(SEVERITY_ROUTES)
    verdict = Verdict(polarity=0, subjectivity=0, label=label, urgency=50, priority="P2", severity=severity)
    assert [r.name for r in select_routes(_m(), verdict, settings, INSIDE)] == routes


def test_a_single_severity_reads_as_a_list():
    settings = AlertSettings.model_validate(SEVERITY_ROUTES)
    assert settings.routes[1].match.severity == ["moderate"]


def test_an_unknown_severity_names_the_value_and_the_allowed_ones():
    with pytest.raises(ConfigError) as err:
        parse_config(
            {
                "brand": {"names": ["Acme"]},
                "alerts": {
                    "routes": [{"name": "p", "match": {"severity": ["critical"]}, "notify": ["console://"]}]
                },
            }
        )
    text = str(err.value)
    assert "alerts.routes.0.match.severity.0" in text
    assert "'critical'" in text and "'severe', 'moderate' or 'mild'" in text
