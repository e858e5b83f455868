"""``alerts:`` in the config file: routes (who hears about what), SLA targets, retries."""

from __future__ import annotations

import re
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

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


class RouteMatch(ConfigModel):
    """All given conditions must hold; an empty match takes every mention."""

    platforms: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    # The route takes mentions of this priority or more urgent (P1 is the most urgent).
    priority: Literal["P1", "P2", "P3"] | None = None
    min_urgency: int | None = Field(default=None, ge=0, le=100)
    keywords: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    min_followers: int | None = Field(default=None, ge=0)
    business_hours: Literal["any", "inside", "outside"] = "any"

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
    def _has_target(self) -> Route:
        if not self.notify and not self.apprise_config:
            raise ValueError(
                f"route {self.name!r} has no targets: add notify: [apprise URL] or apprise_config"
            )
        return self


def _default_routes() -> list[Route]:
    return [Route(name="urgent", match=RouteMatch(priority="P1"), notify=[SecretStr("console://")])]


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


class AlertSettings(ConfigModel):
    # "first": a mention goes to the first route that matches; "all": to every matching route.
    routing: Literal["first", "all"] = "first"
    routes: list[Route] = Field(default_factory=_default_routes)
    operators: list[SecretStr] = Field(default_factory=list, description="Apprise URLs for operator alerts")
    sla: SLASettings = Field(default_factory=SLASettings)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    retry: RetrySettings = Field(default_factory=RetrySettings)

    @field_validator("routes")
    @classmethod
    def _unique_names(cls, v: list[Route]) -> list[Route]:
        names = [r.name for r in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"route names must be unique; repeated: {', '.join(dupes)}")
        return v
