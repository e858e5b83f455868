"""``alerts:`` in the config file: routes (who hears about what), SLA targets, retries."""

from __future__ import annotations

import re
from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from monitor.configbase import ConfigModel

PRIORITY_ORDER = {"P1": 1, "P2": 2, "P3": 3}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHours(ConfigModel):
    timezone: str = "UTC"
    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: time = time(9, 0)
    end: time = time(17, 0)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Europe/Berlin") from exc
        return v

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if d.lower()[:3] not in _DAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad}; use mon, tue, wed, thu, fri, sat, sun")
        return [d.lower()[:3] for d in v]


# Triage's labels (monitor.triage.model.LABELS, not imported: config loading stays light). A
# misspelt label in a route would make a route that never fires, so it is an error.
TriageLabel = Literal["complaint", "question", "praise", "neutral", "spam", "unscored"]


class RouteMatch(ConfigModel):
    """All given conditions must hold; an empty match takes every mention."""

    platforms: list[str] = Field(default_factory=list)
    labels: list[TriageLabel] = Field(default_factory=list)
    # Exactly these priorities: [P3] is P3 only, [P1, P2] both. Empty: any priority.
    priority: list[Literal["P1", "P2", "P3"]] = Field(default_factory=list)
    # This priority or more urgent (P1 is the most urgent): P2 takes P1 and P2.
    priority_at_least: Literal["P1", "P2", "P3"] | None = None
    min_urgency: int | None = Field(default=None, ge=0, le=100)
    # A complaint's severity from triage: [severe] pages only for accusations, harm and threats.
    # Mentions without one (not complaints) never match a route that names severities.
    severity: list[Literal["severe", "moderate", "mild"]] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    min_followers: int | None = Field(default=None, ge=0)
    business_hours: Literal["any", "inside", "outside"] = "any"

    @model_validator(mode="before")
    @classmethod
    def _single_priority(cls, data: Any) -> Any:
        # Configs written before the list form say ``priority: P2`` and mean "P2 or more urgent":
        # they keep working, and check-config shows the meaning as priority_at_least.
        if isinstance(data, dict) and isinstance(data.get("priority"), str):
            if data.get("priority_at_least") is not None:
                raise ValueError(
                    "give priority: [P2] (exactly these) or priority_at_least: P2 (P2 or more urgent), "
                    "not both"
                )
            rest = {k: v for k, v in data.items() if k != "priority"}
            data = {**rest, "priority_at_least": data["priority"]}
        if isinstance(data, dict) and isinstance(data.get("severity"), str):
            data = {**data, "severity": [data["severity"]]}  # ``severity: severe`` means [severe]
        return data

    @property
    def keyword_re(self) -> re.Pattern[str] | None:
        if not self.keywords:
            return None
        return re.compile("|".join(rf"\b{re.escape(k)}\b" for k in self.keywords), re.IGNORECASE)


class Route(ConfigModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    match: RouteMatch = Field(default_factory=RouteMatch)
    # Apprise URLs (slack://…, mailto://…, json://…); they carry tokens, so they are secrets.
    notify: list[SecretStr] = Field(default_factory=list)
    # Or/and an Apprise config file with tagged URLs, and the tags to notify from it.
    apprise_config: str | None = None
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_target(self, info: ValidationInfo) -> Route:
        if not self.notify and not self.apprise_config:
            raise ValueError(
                f"route {self.name!r} has no targets: add notify: [apprise URL] or apprise_config"
            )
        if _check_targets(info):
            from monitor.alerts.targets import urls_problem

            problem = urls_problem([u.get_secret_value() for u in self.notify], "notify")
            if problem:
                raise ValueError(f"route {self.name!r}, {problem}")
        return self


def _check_targets(info: ValidationInfo) -> bool:
    """Apprise URLs are checked unless the loader says not to (commands that only read the database)."""
    return bool((info.context or {}).get("check_targets", True))


def _default_routes() -> list[Route]:
    # Built without validation: checking console:// would load Apprise on every config load.
    return [
        Route.model_construct(
            name="urgent", match=RouteMatch(priority="P1"), notify=[SecretStr("console://")]
        )
    ]


class SLASettings(ConfigModel):
    """Minutes within which a mention of each priority should get its first response."""

    p1_minutes: float = Field(default=15, gt=0)
    p2_minutes: float = Field(default=240, gt=0)
    p3_minutes: float = Field(default=1440, gt=0)

    def minutes_for(self, priority: str | None) -> float:
        return {"P1": self.p1_minutes, "P2": self.p2_minutes}.get(priority or "", self.p3_minutes)


class RetrySettings(ConfigModel):
    max_attempts: int = Field(default=8, ge=1, le=100)
    base_delay: float = Field(default=10, gt=0, description="seconds before the first retry")
    max_delay: float = Field(default=1800, gt=0, description="longest wait between retries, seconds")


class IncidentSettings(ConfigModel):
    """Storm folding: a burst of complaints far above the usual rate becomes one incident."""

    enabled: bool = True
    # Which labels count towards a storm (complaints by default).
    labels: list[TriageLabel] = Field(default_factory=lambda: ["complaint"])
    # Mentions containing one of these terms are grouped per term; the rest per platform.
    terms: list[str] = Field(default_factory=list)
    window_minutes: float = Field(default=10, gt=0, description="the burst is counted over this window")
    baseline_hours: float = Field(default=24, gt=0, description="the normal rate is learnt over this span")
    min_count: int = Field(default=8, ge=2, description="never an incident below this many in the window")
    # A fresh install's first poll (a backfill, the demo) is not an outage: storms are only
    # detected once the platform has stored mentions this much older than the window.
    min_history_hours: float = Field(default=1, ge=0)
    factor: float = Field(default=4.0, ge=1, description="window count must exceed the normal rate × this")
    sigma: float = Field(default=3.0, ge=0, description="…and the normal rate + sigma standard deviations")
    update_minutes: float = Field(default=5, gt=0, description="count updates at most this often")
    quiet_minutes: float = Field(default=30, gt=0, description="an incident closes after this long quiet")
    cooldown_minutes: float = Field(default=30, ge=0, description="after closing, a new storm reopens it")
    samples: int = Field(default=5, ge=1, le=20)
    # Members that still alert on their own: big accounts and the most severe posts.
    individual_min_followers: int | None = Field(default=10_000, ge=0)
    individual_min_urgency: int | None = Field(default=90, ge=0, le=100)


class DigestSettings(ConfigModel):
    """P3 mentions are held for a periodic summary instead of alerting one by one."""

    # Name of the route whose targets get the digest; None keeps P3 alerts individual.
    route: str | None = None
    every: Literal["hourly", "daily"] = "daily"
    top: int = Field(default=5, ge=1, le=50, description="how many top complaints to list")


class EscalationSettings(ConfigModel):
    """A P1/P2 alert nobody acknowledged within its SLA is re-sent to an escalation route."""

    enabled: bool = True
    # Route name; None re-sends to the route(s) the mention first alerted on.
    route: str | None = None
    priorities: list[Literal["P1", "P2", "P3"]] = Field(default_factory=lambda: ["P1", "P2"])


class OperatorChecks(ConfigModel):
    """When the monitor itself is broken, the ``operators`` targets hear about it."""

    source_failing_minutes: float = Field(default=15, gt=0, description="a source unhealthy this long")
    target_failing_minutes: float = Field(default=15, gt=0, description="a target failing this long")
    backlog_minutes: float = Field(default=10, gt=0, description="an undelivered alert older than this")
    repeat_minutes: float = Field(default=240, gt=0, description="remind about the same problem after")


class AmbiguousSettings(ConfigModel):
    """Sends that may or may not have arrived (``unknown``): urgent ones are re-sent once, marked."""

    resend_after: float = Field(default=60, ge=0, description="seconds to wait before the one re-send")
    resend_priorities: list[Literal["P1", "P2", "P3"]] = Field(default_factory=lambda: ["P1", "P2"])
    # Operators hear about it when more ambiguous sends than this happen within an hour.
    operator_alert_per_hour: int = Field(default=5, ge=1)


class AlertSettings(ConfigModel):
    # "first": a mention goes to the first route that matches; "all": to every matching route.
    routing: Literal["first", "all"] = "first"
    routes: list[Route] = Field(default_factory=_default_routes)
    operators: list[SecretStr] = Field(default_factory=list, description="Apprise URLs for operator alerts")
    sla: SLASettings = Field(default_factory=SLASettings)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    operator_checks: OperatorChecks = Field(default_factory=OperatorChecks)
    ambiguous: AmbiguousSettings = Field(default_factory=AmbiguousSettings)
    # The same author (or thread) alerts at most once in this many minutes; 0 disables.
    author_window_minutes: float = Field(default=30, ge=0)
    # Apprise's deadline for one send; running out of it is an ambiguous outcome (``unknown``).
    send_timeout: float = Field(default=30, gt=0, description="seconds")
    # Acknowledge links in alerts (need dashboard.public_url and dashboard.secret_key).
    ack_link_hours: float = Field(default=24, gt=0, description="how long an acknowledge link works")
    text_limit: int = Field(default=600, ge=50, description="longest quoted mention text, characters")

    @field_validator("operators")
    @classmethod
    def _operator_targets(cls, v: list[SecretStr], info: ValidationInfo) -> list[SecretStr]:
        if v and _check_targets(info):
            from monitor.alerts.targets import urls_problem

            problem = urls_problem([u.get_secret_value() for u in v], "operators")
            if problem:
                raise ValueError(problem)
        return v

    @field_validator("routes")
    @classmethod
    def _unique_names(cls, v: list[Route]) -> list[Route]:
        names = [r.name for r in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"route names must be unique; repeated: {', '.join(dupes)}")
        if OPERATORS_ROUTE in names:
            raise ValueError(f"the route name {OPERATORS_ROUTE!r} is reserved for alerts.operators")
        return v

    @model_validator(mode="after")
    def _known_route_names(self) -> AlertSettings:
        names = {r.name for r in self.routes}
        for key, value in (("digest.route", self.digest.route), ("escalation.route", self.escalation.route)):
            if value is not None and value not in names:
                raise ValueError(
                    f"{key}: no route named {value!r}; define it under alerts.routes "
                    f"(known: {', '.join(sorted(names)) or 'none'})"
                )
        return self


# Alerts about the monitor itself go to ``alerts.operators`` under this route name.
OPERATORS_ROUTE = "operators"
