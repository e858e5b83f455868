"""What reports take from the config: business hours, SLA minutes, teams and brand terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.alerts.settings import BusinessHours, SLASettings
from monitor.reports.rollup import RollupSettings


@dataclass(frozen=True)
class ReportSettings:
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    sla: SLASettings = field(default_factory=SLASettings)
    # login -> team, from ``dashboard.users.<login>.team``
    teams: dict[str, str] = field(default_factory=dict)
    brand_terms: tuple[str, ...] = ()

    @property
    def rollup(self) -> RollupSettings:
        return RollupSettings(business_hours=self.business_hours, brand_terms=self.brand_terms, sla=self.sla)

    @classmethod
    def from_config(cls, config: Any) -> ReportSettings:
        users = getattr(config.dashboard, "users", {}) or {}
        teams = {login: user.team for login, user in users.items() if getattr(user, "team", None)}
        return cls(
            business_hours=config.alerts.business_hours,
            sla=config.alerts.sla,
            teams=teams,
            brand_terms=tuple(config.brand.terms),
        )
