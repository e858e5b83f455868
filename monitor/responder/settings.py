"""``responder:`` in the config file: reply templates, the promised window, retries, auto-acknowledge.

Templates are checked when the config loads: a variable that is not one of
:data:`VARIABLES` is a config error, never a literal ``{name}`` in a public post.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from monitor.configbase import ConfigModel

# What a template may use; :mod:`monitor.responder.templates` fills them in.
VARIABLES = {
    "author": "the author's display name, or their handle when there is none",
    "handle": "the author's handle with its @",
    "brand": "the first of brand.names",
    "product": "responder.product, else the brand name",
    "agent": "the replying agent's first name (responder.agents maps login → name)",
    "window": "responder.window, the promised response time (e.g. '24 hours')",
    "ticket_link": "responder.ticket_link with {mention_id} filled in",
}


class AutoAckSettings(ConfigModel):
    """Automatic "we're on it" replies to complaints (off unless ``enabled``)."""

    enabled: bool = False
    routes: list[str] = Field(
        default_factory=list, description="alert routes whose complaints are auto-acknowledged"
    )
    template: str = Field(default="ack", description="name of the template under responder.templates")
    author_window_hours: float = Field(
        default=24, gt=0, description="at most one automatic reply per author in this many hours"
    )
    max_per_hour: int = Field(default=20, ge=1, description="automatic replies in any hour, all platforms")
    incident_members: bool = Field(
        default=False, description="also auto-acknowledge complaints folded into an incident"
    )
    max_age_minutes: float = Field(
        default=60, gt=0, description="complaints older than this get no automatic reply"
    )


class IncidentReplySettings(ConfigModel):
    """One public status reply per incident, then its members are resolved in bulk."""

    template: str = Field(default="incident", description="template of the public status reply")
    personal_min_followers: int | None = Field(
        default=None,
        ge=0,
        description="members with this many followers stay open for a personal reply "
        "(default: alerts.incidents.individual_min_followers)",
    )


class XReplyCredentials(ConfigModel):
    """Posting on X needs a user context; the source's app-only bearer token can only read."""

    user_access_token: SecretStr | None = Field(
        default=None, description="OAuth 2.0 user access token with tweet.write (or the four OAuth 1.0a keys)"
    )
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None


class ResponderSettings(ConfigModel):
    enabled: bool = Field(default=True, description="the daemon sends queued replies")
    accounts: dict[str, str] = Field(
        default_factory=dict,
        description="platform → source name whose account replies (default: the mention's own source)",
    )
    x: XReplyCredentials = Field(default_factory=XReplyCredentials)
    product: str | None = None
    window: str = Field(default="24 hours", description="the response time promised in acknowledgements")
    ticket_link: str | None = Field(
        default=None, description="e.g. https://support.example.com/new?ref={mention_id}"
    )
    agents: dict[str, str] = Field(
        default_factory=dict, description="agent login → first name used in {agent}"
    )
    templates: dict[str, str] = Field(default_factory=dict)
    max_attempts: int = Field(default=5, ge=1, le=50, description="tries per reply before it is failed")
    base_delay: float = Field(default=30, gt=0, description="seconds before the first retry")
    max_delay: float = Field(default=3600, gt=0, description="longest wait between retries, seconds")
    send_timeout: float = Field(default=20, gt=0, le=300, description="seconds per platform request")
    auto_ack: AutoAckSettings = Field(default_factory=AutoAckSettings)
    incidents: IncidentReplySettings = Field(default_factory=IncidentReplySettings)

    @field_validator("templates")
    @classmethod
    def _known_variables(cls, value: dict[str, str]) -> dict[str, str]:
        from monitor.responder.templates import variables_in

        problems = []
        for name, text in value.items():
            if not text or not text.strip():
                problems.append(f"{name}: the template is empty")
                continue
            try:
                unknown = sorted(set(variables_in(text)) - set(VARIABLES))
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
                continue
            if unknown:
                problems.append(
                    f"{name}: unknown variable(s) {', '.join('{' + u + '}' for u in unknown)}; "
                    f"use {', '.join('{' + v + '}' for v in VARIABLES)} (write {{{{ }}}} for a literal brace)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("ticket_link")
    @classmethod
    def _ticket_link(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from monitor.responder.templates import variables_in

        bad = sorted(set(variables_in(value)) - {"mention_id"})
        if bad:
            raise ValueError(f"ticket_link may only use {{mention_id}}, not {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _templates_exist(self) -> ResponderSettings:
        if self.auto_ack.enabled and self.auto_ack.template not in self.templates:
            raise ValueError(
                f"auto_ack.template: no template named {self.auto_ack.template!r} under responder.templates "
                f"(known: {', '.join(sorted(self.templates)) or 'none'})"
            )
        return self
