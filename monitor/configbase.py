"""The base class of every config section: strict keys, secrets from files.

Each section (core settings, a source's own settings, triage weights, alert
routes) is a pydantic model deriving from :class:`ConfigModel`, so a source
module can declare its own settings and a new platform stays one new file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class SecretFileError(ValueError):
    """A ``*_file`` key pointed at a file that cannot be read."""


class ConfigModel(BaseModel):
    """Strict config section.

    * unknown keys are errors (the loader turns them into did-you-mean hints);
    * ``name_file: /path`` fills the field ``name`` with the file's stripped
      contents, so secrets can live in systemd credentials instead of the YAML;
      a relative path is looked up in ``$CREDENTIALS_DIRECTORY`` when systemd
      set it (``LoadCredential=x_token:…`` → ``bearer_token_file: x_token``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        out = dict(data)
        for key, value in data.items():
            if not isinstance(key, str) or not key.endswith("_file") or key in fields:
                continue
            target = key[: -len("_file")]
            if target not in fields:
                continue
            if out.get(target) not in (None, ""):
                raise ValueError(f"give either {target} or {key}, not both")
            path = Path(str(value)).expanduser()
            creds = os.environ.get("CREDENTIALS_DIRECTORY")
            if creds and not path.is_absolute():
                # systemd LoadCredential=NAME:… — `token_file: NAME` reads $CREDENTIALS_DIRECTORY/NAME.
                path = Path(creds) / path
            try:
                out[target] = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SecretFileError(
                    f"{key}: cannot read {path} ({exc.strerror or exc}); "
                    "check the path and that the service user may read it"
                ) from exc
            del out[key]
        return out
