"""Which routes a triaged mention goes to: a pure function of the mention, its verdict and ``now``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.alerts.settings import PRIORITY_ORDER, AlertSettings, BusinessHours, Route, RouteMatch
from monitor.mention import Mention
from monitor.triage import Verdict

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def in_business_hours(hours: BusinessHours, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(hours.timezone))
    if _DAYS[local.weekday()] not in hours.days:
        return False
    t = local.time().replace(tzinfo=None)
    if hours.start <= hours.end:
        return hours.start <= t < hours.end
    return t >= hours.start or t < hours.end  # a night shift crossing midnight


def matches(match: RouteMatch, mention: Mention, verdict: Verdict, *, business_hours: bool) -> bool:
    if match.platforms and mention.platform not in match.platforms:
        return False
    if match.labels and verdict.label not in match.labels:
        return False
    if match.priority and verdict.priority not in match.priority:
        return False
    at_least = match.priority_at_least
    if at_least and PRIORITY_ORDER.get(verdict.priority, 9) > PRIORITY_ORDER[at_least]:
        return False
    if match.min_urgency is not None and verdict.urgency < match.min_urgency:
        return False
    if match.severity and verdict.severity not in match.severity:
        return False
    if match.languages and (mention.language or "").split("-")[0].lower() not in match.languages:
        return False
    if match.min_followers is not None and (mention.author_followers or 0) < match.min_followers:
        return False
    if match.business_hours == "inside" and not business_hours:
        return False
    if match.business_hours == "outside" and business_hours:
        return False
    pattern = match.keyword_re
    return not (pattern and not pattern.search(mention.text))


def select_routes(
    mention: Mention,
    verdict: Verdict,
    settings: AlertSettings,
    now: datetime,
    *,
    business_hours: bool | None = None,
) -> list[Route]:
    """The routes this mention alerts on, in config order (at most one with ``routing: first``).

    ``business_hours``: whether ``now`` is inside them, when the caller already knows (a page).
    """
    inside = in_business_hours(settings.business_hours, now) if business_hours is None else business_hours
    chosen = []
    for route in settings.routes:
        if matches(route.match, mention, verdict, business_hours=inside):
            chosen.append(route)
            if settings.routing == "first":
                break
    return chosen


@dataclass(frozen=True, slots=True)
class Destination:
    """One configured target of a route. ``id`` is stable and holds no secret."""

    id: str
    label: str
    url: str | None = None  # an Apprise URL, or None for an apprise_config + tags group
    config_path: str | None = None
    tags: tuple[str, ...] = ()


def destinations(route: Route) -> list[Destination]:
    out = []
    for i, secret in enumerate(route.notify):
        url = secret.get_secret_value()
        digest = hashlib.sha256(url.encode()).hexdigest()[:10]
        out.append(Destination(f"{route.name}/{i}:{digest}", mask_url(url), url=url))
    if route.apprise_config:
        key = f"{route.apprise_config}|{','.join(route.tags)}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        label = f"{route.apprise_config} tags={','.join(route.tags) or 'all'}"
        out.append(
            Destination(
                f"{route.name}/config:{digest}",
                label,
                config_path=route.apprise_config,
                tags=tuple(route.tags),
            )
        )
    return out


def mask_url(url: str) -> str:
    """The URL as Apprise prints it with secrets hidden (``slack://T1/****/…``)."""
    import apprise

    from monitor.alerts import console as _console  # noqa: F401  (registers console://)

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return url.split("://", 1)[0] + "://…"
    return plugin.url(privacy=True)
