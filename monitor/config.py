"""The one YAML config file: loading, ``${ENV}`` interpolation, validation into typed settings.

A bad file never half-loads: :func:`load_config` raises :class:`ConfigError`
listing every problem as ``key.path: what is wrong, got X (how to fix)``.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator

from monitor.alerts.settings import AlertSettings
from monitor.brand import BrandSettings
from monitor.configbase import ConfigModel, SecretFileError
from monitor.configfile import interpolate as _interpolate
from monitor.responder.settings import ResponderSettings
from monitor.sources import SourceSettings, available_platforms, source_class
from monitor.store.location import default_database_url
from monitor.triage.settings import TriageSettings


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{len(problems)} problem(s) in the config:\n  " + "\n  ".join(problems))


class StorageSettings(ConfigModel):
    url: SecretStr = Field(default_factory=lambda: SecretStr(default_database_url()))

    @field_validator("url")
    @classmethod
    def _url(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if "://" not in raw:
            raise ValueError(
                "must be a SQLAlchemy URL such as sqlite:////var/lib/mention-monitor/mentions.db "
                "or postgresql+psycopg://user@host/db"
            )
        return v


class DashboardUser(ConfigModel):
    """A dashboard login: an argon2 hash (``mention-monitor web hash-password``) and a role."""

    password_hash: SecretStr = Field(description="argon2 hash from `mention-monitor web hash-password`")
    role: Literal["viewer", "agent", "manager"] = "agent"
    name: str | None = Field(default=None, description="display name; default: the login")
    # Reports group first-response SLA figures per team (e.g. "emea", "tier-2").
    team: str | None = Field(default=None, max_length=64, description="team name for the SLA reports")

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value().startswith("$argon2"):
            raise ValueError(
                "must be an argon2 hash (starts with $argon2); make one with "
                "`mention-monitor web hash-password` — never put the password itself here"
            )
        return v


MIN_SECRET_LENGTH = 32
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class DashboardSettings(ConfigModel):
    enabled: bool = False
    listen: str = Field(default="127.0.0.1:8080", pattern=r"^[^:\s]+:\d{1,5}$")
    # Public base URL of the dashboard/ack links, as agents' phones reach it.
    public_url: str | None = None
    # Signs acknowledge links and dashboard sessions; empty means none (ack links off).
    secret_key: SecretStr | None = None
    # Logins; a role is viewer (read, export), agent (act on mentions) or manager (everything).
    users: dict[str, DashboardUser] = Field(default_factory=dict)
    # Opt-in single sign-on: a reverse proxy in front sets this header to the login name.
    proxy_auth_header: str | None = None
    # Only requests from these addresses/networks may set proxy_auth_header.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Role for a proxy-authenticated login that is not listed in users.
    proxy_default_role: Literal["viewer", "agent", "manager"] = "viewer"
    session_hours: float = Field(default=12.0, gt=0, description="hours a login lasts")
    login_attempts: int = Field(
        default=5, ge=1, description="failed logins per address and per user within 15 min before a pause"
    )

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value():
            return None
        if len(v.get_secret_value()) < MIN_SECRET_LENGTH:
            # The value itself is never echoed; "got N" is its length.
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters, got {len(v.get_secret_value())} "
                f"(generate one: {GENERATE_SECRET})"
            )
        return v

    @model_validator(mode="after")
    def _enabled_needs_secret(self) -> DashboardSettings:
        if self.enabled and self.secret_key is None:
            raise ValueError(
                "secret_key is required when enabled is true (it signs logins and acknowledge links); "
                f"generate one: {GENERATE_SECRET}, and set it via ${{VAR}} or secret_key_file"
            )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)"
                ) from None
        return v


class LoggingSettings(ConfigModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class ServiceSettings(ConfigModel):
    """Running unattended: failover between instances, hang detection, database outages, health."""

    takeover_after: float = Field(
        default=15.0,
        ge=3,
        le=600,
        description="seconds until another instance takes over a dead one's sources and deliveries",
    )
    stall_after: float = Field(
        default=300.0,
        ge=1,
        description="seconds a loop may spend on one step before it counts as hung (watchdog stops)",
    )
    db_alert_after: float = Field(
        default=120.0, ge=0, description="seconds without the database before operators are alerted"
    )
    db_fail_after: float = Field(
        default=1800.0, ge=0, description="seconds without the database before the daemon exits (0: never)"
    )
    health_listen: str | None = Field(
        default=None,
        pattern=r"^[^:\s]+:\d{1,5}$",
        description="host:port serving /healthz and /metrics when the dashboard is off",
    )
    backlog_unhealthy_after: float = Field(
        default=900.0, gt=0, description="seconds an alert may wait undelivered before /healthz says 503"
    )


class Config(ConfigModel):
    brand: BrandSettings
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    responder: ResponderSettings = Field(default_factory=ResponderSettings)

    @model_validator(mode="after")
    def _auto_ack_routes(self) -> Config:
        names = {r.name for r in self.alerts.routes}
        unknown = [r for r in self.responder.auto_ack.routes if r not in names]
        if unknown:
            raise ValueError(
                f"responder.auto_ack.routes: no alert route named {', '.join(map(repr, unknown))} "
                f"(alerts.routes has: {', '.join(sorted(names)) or 'none'})"
            )
        return self

    def enabled_sources(self) -> dict[str, SourceSettings]:
        return {name: s for name, s in self.sources.items() if s.enabled}

    def platform_of(self, name: str) -> str:
        return self.sources[name].platform or name


# ----------------------------------------------------------------------------- loading


def load_config(path: str | os.PathLike[str], *, check_targets: bool = True) -> Config:
    """Read, interpolate and validate the YAML file at ``path``.

    ``check_targets=False`` skips asking Apprise whether each alert URL is usable: for
    commands that only need ``storage.url``, so they do not pay for loading Apprise.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"no such file: {p} (copy config.example.yaml and edit it)"]) from None
    except OSError as exc:
        raise ConfigError([f"cannot read {p}: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}not valid YAML: {problem}"], str(p)) from None
    return parse_config(data, source=str(p), check_targets=check_targets)


def parse_config(data: Any, *, source: str | None = None, check_targets: bool = True) -> Config:
    """Validate already-parsed YAML data (a mapping) into a :class:`Config`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"the top level must be a mapping of sections, got {type(data).__name__}"], source)
    problems: list[str] = []
    data = dict(data)
    # Sources are interpolated one by one: a disabled source's unset ${VAR} is no problem.
    raw_sources = data.pop("sources", None) or {}
    data = _interpolate(data, "", problems)
    sources: dict[str, SourceSettings] = {}
    if not isinstance(raw_sources, dict):
        problems.append(
            f"sources: must be a mapping of source name to settings, got {type(raw_sources).__name__}"
        )
        raw_sources = {}
    for name, raw in raw_sources.items():
        settings = _parse_source(str(name), raw or {}, problems)
        if settings is not None:
            sources[str(name)] = settings
    try:
        config = Config.model_validate({**data, "sources": {}}, context={"check_targets": check_targets})
    except ValidationError as exc:
        problems.extend(_format_errors(exc, Config, prefix=""))
        config = None
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config.model_copy(update={"sources": sources})


def model_path_problem(value: str, config_path: str | None = None) -> str | None:
    """Why the daemon would run without the learned signal ``triage.model_path`` names, or None.

    At run time a missing or broken model is one log line and triage on rules only (the model is
    optional: a daemon keeps working); ``check-config`` warns up front, with what to do, and
    still exits 0 so that the systemd unit's start check does not stop the service over it.
    """
    from monitor.triage.learned import ModelUnavailable, read_model

    if not value.strip():
        return None
    target = Path(value).expanduser()
    shown = str(target) if target.is_absolute() else f"{target} ({target.absolute()} from here)"
    train = f"run `mention-monitor triage-train -c {config_path or 'CONFIG'} --out {target}` (or --from FILE)"
    rules = "or remove triage.model_path to run triage on rules only"
    if not target.exists():
        return f"triage.model_path: no model at {shown}: {train} to write it, {rules}"
    if target.is_dir():
        return f"triage.model_path: {shown} is a directory: name the model file triage-train wrote, {rules}"
    try:
        with target.open("rb"):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc)
        return f"triage.model_path: cannot read {shown} ({why}): let the daemon's user read it, {rules}"
    try:
        read_model(target)
    except ModelUnavailable as exc:
        if exc.missing_dependency:  # the file is fine; this install cannot score it
            return f"triage.model_path: {exc.reason}, {rules}"
        return f"triage.model_path: {exc.reason}: {train} to replace it, {rules}"
    return None


_FALSE = {"false", "no", "off", "0"}


def _parse_source(name: str, raw: Any, problems: list[str]) -> SourceSettings | None:
    if not isinstance(raw, dict):
        problems.append(f"sources.{name}: must be a mapping of settings, got {type(raw).__name__}")
        return None
    env_problems: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        found: list[str] = []
        values[key] = _interpolate(value, f"sources.{name}.{key}", found)
        if found:
            env_problems[str(key)] = found
    raw = values
    enabled = raw.get("enabled", True)
    disabled = enabled is False or str(enabled).strip().lower() in _FALSE
    if disabled:
        # A disabled source is never built: its secrets may be unset until someone enables it.
        raw = {k: v for k, v in raw.items() if k not in env_problems}
    else:
        problems.extend(p for found in env_problems.values() for p in found)
    platform = str(raw.get("platform") or name)
    known = available_platforms()
    if platform not in known:
        hint = difflib.get_close_matches(platform, known, n=1)
        tip = f"did you mean {hint[0]!r}? " if hint else ""
        key = f"sources.{name}.platform" if raw.get("platform") else f"sources.{name}"
        problems.append(f"{key}: unknown platform {platform!r}; {tip}known: {', '.join(known)}")
        return None
    cls = source_class(platform).Settings
    try:
        settings = cls.model_validate({**raw, "platform": platform})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if disabled:
            # Typos and bad values still count; what is missing can be filled in when enabling it.
            errors = [e for e in errors if e["type"] != "missing"]
            if not errors:
                return _disabled_placeholder(cls, {**raw, "platform": platform})
        problems.extend(_format_error_list(errors, cls, prefix=f"sources.{name}"))
        return None
    except SecretFileError as exc:
        if disabled:
            return _disabled_placeholder(cls, {k: v for k, v in raw.items() if not str(k).endswith("_file")})
        problems.append(f"sources.{name}.{exc}")
        return None
    if not disabled:
        problems.extend(_missing_when_enabled(settings, f"sources.{name}", skip=set(env_problems)))
    return settings


def _disabled_placeholder(cls: type[SourceSettings], raw: dict[str, Any]) -> SourceSettings:
    """A disabled source's settings as given (unvalidated, never used to poll; shown by check-config)."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        field = cls.model_fields.get(str(key))
        if field is None:
            continue
        secret = field.annotation is SecretStr or SecretStr in getattr(field.annotation, "__args__", ())
        values[str(key)] = SecretStr(str(value)) if secret and value is not None else value
    values["enabled"] = False
    return cls.model_construct(**values)


def _missing_when_enabled(settings: SourceSettings, prefix: str, skip: set[str]) -> list[str]:
    """Credentials an enabled source cannot poll without (``required_when_enabled``, empty secrets)."""
    out = []
    for key, field in type(settings).model_fields.items():
        if key in skip:
            continue  # already reported: its ${VAR} is not set
        value = getattr(settings, key, None)
        empty = value is None or (isinstance(value, SecretStr) and not value.get_secret_value())
        needed = key in settings.required_when_enabled or (
            isinstance(value, SecretStr) and field.is_required()
        )
        if needed and empty:
            what = f" ({field.description})" if field.description else ""
            out.append(
                f"{prefix}.{key}: required when the source is enabled{what}; "
                f"set it (or {key}_file: /path), or set enabled: false"
            )
    return out


def _format_errors(exc: ValidationError, model: type[BaseModel], prefix: str) -> list[str]:
    return _format_error_list(exc.errors(include_url=False), model, prefix)


def _format_error_list(errors: list[Any], model: type[BaseModel], prefix: str) -> list[str]:
    lines = []
    for err in errors:
        loc = [str(p) for p in err["loc"]]
        path = ".".join(x for x in [prefix, *loc] if x)
        described = _describe(err, model, err["loc"])
        lines.append(f"{path}: {described}" if path else described)
    return lines


def _describe(err: Any, model: type[BaseModel], loc: tuple) -> str:
    kind, ctx, given = err["type"], err.get("ctx") or {}, err.get("input")
    got = f", got {given!r}" if not isinstance(given, (dict, list)) else ""
    unit = _field_description(model, loc)
    unit = f" ({unit})" if unit else ""
    if kind == "extra_forbidden":
        options = _sibling_fields(model, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), options, n=1)
        tip = f"; did you mean {hint[0]!r}?" if hint else f"; allowed here: {', '.join(options)}"
        return f"unknown key{tip}"
    if kind == "missing":
        return f"required{unit} but missing"
    if kind == "greater_than_equal":
        return f"must be ≥ {_num(ctx.get('ge'))}{unit}{got}"
    if kind == "greater_than":
        return f"must be > {_num(ctx.get('gt'))}{unit}{got}"
    if kind == "less_than_equal":
        return f"must be ≤ {_num(ctx.get('le'))}{unit}{got}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{got}"
    if kind == "value_error":
        return f"{ctx.get('error') or err['msg']!s}{got if 'got' not in str(ctx.get('error')) else ''}"
    return f"{err['msg'][0].lower()}{err['msg'][1:]}{got}"


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _resolve(model: Any, loc: tuple) -> Any:
    """Walk the model classes along ``loc`` (skipping list indexes and dict keys)."""
    current = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            continue  # a list index or mapping key: stay on the same model
        current = _inner_model(field.annotation)
    return current


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _sibling_fields(model: type[BaseModel], parent: tuple) -> list[str]:
    target = _resolve(model, parent) if parent else model
    if isinstance(target, type) and issubclass(target, BaseModel):
        return sorted(target.model_fields)
    return []


def _field_description(model: type[BaseModel], loc: tuple) -> str | None:
    if not loc:
        return None
    parent = _resolve(model, loc[:-1]) if len(loc) > 1 else model
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        field = parent.model_fields.get(str(loc[-1]))
        return field.description if field else None
    return None


def masked(config: Config) -> dict[str, Any]:
    """The effective config as plain data with every secret masked, for ``check-config``."""
    data = config.model_dump(mode="json")
    data["sources"] = {name: s.model_dump(mode="json") for name, s in config.sources.items()}
    return data
