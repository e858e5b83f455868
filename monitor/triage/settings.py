"""``triage:`` in the config file: thresholds and weights, with defaults that work."""

from __future__ import annotations

from pydantic import Field

from monitor.configbase import ConfigModel


class TriageSettings(ConfigModel):
    # A mention whose TextBlob polarity is at or below this reads as negative.
    negative_polarity: float = Field(default=-0.05, ge=-1, le=1)
    # Urgency at or above which a mention is P1 (act now) / P2 (within the SLA); below is P3.
    p1_urgency: int = Field(default=70, ge=0, le=100)
    p2_urgency: int = Field(default=40, ge=0, le=100)
    # Followers from which an author counts as high-reach.
    high_reach_followers: int = Field(default=10_000, ge=0)
    escalation_terms: list[str] = Field(
        default_factory=lambda: ["lawyer", "legal action", "sue", "safety", "injured", "press", "cancel my account"]
    )
