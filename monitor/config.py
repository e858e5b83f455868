"""The one YAML config file: loading, ``${ENV}`` interpolation, validation into typed settings.

A bad file never half-loads: :func:`load_config` raises :class:`ConfigError`
listing every problem as ``key.path: what is wrong, got X (how to fix)``.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

from monitor.alerts.settings import AlertSettings
from monitor.brand import BrandSettings
from monitor.configbase import ConfigModel, SecretFileError
from monitor.sources import SourceSettings, available_platforms, source_class
from monitor.triage.settings import TriageSettings


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{len(problems)} problem(s) in the config:\n  " + "\n  ".join(problems))


def default_database_url() -> str:
    """SQLite under systemd's StateDirectory when set, else the user's data dir."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        base = Path(state.split(":")[0])
    else:
        from platformdirs import user_data_dir

        base = Path(user_data_dir("mention-monitor", appauthor=False))
    return f"sqlite:///{base / 'mentions.db'}"


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


class DashboardSettings(ConfigModel):
    enabled: bool = False
    listen: str = Field(default="127.0.0.1:8080", pattern=r"^[^:\s]+:\d{1,5}$")
    # Public base URL of the dashboard/ack links, as agents' phones reach it.
    public_url: str | None = None
    secret_key: SecretStr | None = None


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

    def enabled_sources(self) -> dict[str, SourceSettings]:
        return {name: s for name, s in self.sources.items() if s.enabled}

    def platform_of(self, name: str) -> str:
        return self.sources[name].platform or name


# ----------------------------------------------------------------------------- loading

_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _interpolate(value: Any, path: str, problems: list[str]) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string; ``$$`` is a literal ``$``."""
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(2)
        found = os.environ.get(name)
        if found is None:
            if default is not None:
                return default
            problems.append(
                f"{path}: environment variable {name} is not set "
                f"(export it, give a default as ${{{name}:-value}}, or use a *_file key)"
            )
            return ""
        return found

    return _ENV.sub(sub, value)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read, interpolate and validate the YAML file at ``path``."""
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
    return parse_config(data, source=str(p))


def parse_config(data: Any, *, source: str | None = None) -> Config:
    """Validate already-parsed YAML data (a mapping) into a :class:`Config`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"the top level must be a mapping of sections, got {type(data).__name__}"], source)
    problems: list[str] = []
    data = _interpolate(data, "", problems)
    raw_sources = data.pop("sources", None) or {}
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
        config = Config.model_validate({**data, "sources": {}})
    except ValidationError as exc:
        problems.extend(_format_errors(exc, Config, prefix=""))
        config = None
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config.model_copy(update={"sources": sources})


def _parse_source(name: str, raw: Any, problems: list[str]) -> SourceSettings | None:
    if not isinstance(raw, dict):
        problems.append(f"sources.{name}: must be a mapping of settings, got {type(raw).__name__}")
        return None
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
        return cls.model_validate({**raw, "platform": platform})
    except ValidationError as exc:
        problems.extend(_format_errors(exc, cls, prefix=f"sources.{name}"))
    except SecretFileError as exc:
        problems.append(f"sources.{name}.{exc}")
    return None


def _format_errors(exc: ValidationError, model: type[BaseModel], prefix: str) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        path = ".".join(x for x in [prefix, *loc] if x)
        lines.append(f"{path}: {_describe(err, model, err['loc'])}")
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
