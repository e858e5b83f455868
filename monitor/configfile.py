"""The config file as plain data: ``${ENV}`` interpolation, and ``storage.url`` alone, without pydantic.

:func:`monitor.config.load_config` validates the whole file into typed settings, which loads
pydantic, every source's and the alert settings' models (~0.3-0.5 s). Commands that only open
the database and print mentions (``mentions``, ``ack``, ``assign``, ``label`` …) need nothing
but ``storage.url``: :func:`storage_url` reads just that. It answers only for the plain case (a
readable YAML mapping whose ``storage`` section, if any, holds just ``url`` with every
``${VAR}`` set); for anything else it returns None and the caller loads the config in full, so
a broken storage section gets the same message as before. ``label`` also needs the ``triage``
section (the urgency a relabel gives): :func:`triage_settings` reads just that one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.triage.settings import TriageSettings

_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: Any, path: str, problems: list[str]) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string; ``$$`` is a literal ``$``."""
    if isinstance(value, dict):
        return {k: interpolate(v, f"{path}.{k}" if path else str(k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
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


def _mapping(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def storage_url(path: str | os.PathLike[str]) -> str | None:
    """The config's ``storage.url`` (the default database when it has no storage section), or None
    when the file needs the full loader to say what is wrong (or to read ``url_file``)."""
    data = _mapping(path)
    if data is None:
        return None
    storage = data.get("storage")
    if storage is None:
        from monitor.store.location import default_database_url

        return default_database_url()
    if not isinstance(storage, dict) or set(storage) != {"url"} or not isinstance(storage["url"], str):
        return None
    problems: list[str] = []
    url = interpolate(storage["url"], "storage.url", problems)
    return url if not problems and "://" in url else None


def triage_settings(path: str | os.PathLike[str]) -> TriageSettings | None:
    """The config's ``triage`` section (the defaults when it has none), or None when the file
    needs the full loader to say what is wrong."""
    from pydantic import ValidationError

    from monitor.triage.settings import TriageSettings

    data = _mapping(path)
    if data is None:
        return None
    section = data.get("triage") or {}
    if not isinstance(section, dict):
        return None
    problems: list[str] = []
    section = interpolate(section, "triage", problems)
    if problems:
        return None
    try:
        return TriageSettings.model_validate(section)
    except ValidationError:
        return None
