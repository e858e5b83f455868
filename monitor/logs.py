"""Logging set-up and secret redaction: journald-friendly lines (or JSON) on stderr, no secrets in them.

Every line passes :func:`redact` after formatting (tracebacks included), at
every level: the config's own secrets (tokens, passwords, Apprise URLs and their
path parts) are replaced wherever they appear, and patterns catch what the
config does not list: ``Authorization``/``Bearer`` values, ``user:password@`` in
URLs, ``token=``/``password=``/``secret=`` pairs. Under systemd (``JOURNAL_STREAM``
set) lines carry a ``<N>`` priority prefix instead of a timestamp, so
``journalctl -p warning`` filters them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

MASK = "***"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # user:password@host in any URL (database, Apprise mailto://, proxies)
    (re.compile(r"(?P<k>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(?=@)", re.I), rf"\g<k>{MASK}"),
    # Authorization headers and bearer tokens, in header dumps, dict reprs and JSON
    (
        re.compile(
            r"(?P<k>authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic|token|bot)\s+)?[^\s'\",}]+", re.I
        ),
        rf"\g<k>{MASK}",
    ),
    (re.compile(r"(?P<k>\bbearer\s+)[A-Za-z0-9._~+/=-]{6,}", re.I), rf"\g<k>{MASK}"),
    # Telegram bot tokens (in api.telegram.org/bot<token>/… and tgram:// URLs)
    (re.compile(r"(?P<k>(?<!\d)\d{6,}:)[A-Za-z0-9_-]{30,}"), rf"\g<k>{MASK}"),
    # key=value / "key": "value" for secret-looking keys
    (
        re.compile(
            r"(?P<k>\b(?:(?:access_|bearer_|refresh_|auth_|api_|app_|oauth_|session_|id_)?token|access_?jwt|refresh_?jwt|password|passwd|secret|client_secret|api_key|apikey|app_password|"
            r"access_key|private_key|secret_key)['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,}]+",
            re.I,
        ),
        rf"\g<k>{MASK}",
    ),
]

_known: set[str] = set()
_known_re: re.Pattern[str] | None = None
_lock = threading.Lock()


def register_secrets(values: Iterable[str]) -> None:
    """Redact these exact strings from now on (the config's secrets; short values are ignored)."""
    global _known_re
    with _lock:
        for v in values:
            v = (v or "").strip()
            if len(v) >= 6:
                _known.add(v)
        if _known:
            alts = sorted(_known, key=len, reverse=True)
            _known_re = re.compile("|".join(re.escape(a) for a in alts))


def register_config(config: Any) -> None:
    """Every secret of a loaded config: SecretStr values, and each Apprise URL's credential parts."""
    values: list[str] = []

    def walk(obj: Any) -> None:
        from pydantic import BaseModel, SecretStr

        if isinstance(obj, SecretStr):
            values.extend(_secret_parts(obj.get_secret_value()))
        elif isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                walk(getattr(obj, name, None))
        elif isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v)

    walk(config)
    register_secrets(values)


def _secret_parts(value: str) -> list[str]:
    """A secret and, for URLs, the parts that carry credentials (user:password, path tokens, query values)."""
    if "://" not in value:
        return [value]
    parts: list[str] = []  # a URL: only its credential parts, so the rest (host, path) stays readable
    if "://" in value:
        scheme, _, rest = value.partition("://")
        if scheme.startswith(("sqlite",)):
            return []  # a file path, not a secret
        if scheme.startswith(("postgres", "mysql")):
            # A database URL: only the password is secret (user, host and database name help a reader).
            netloc = rest.partition("/")[0]
            creds = netloc.rsplit("@", 1)[0] if "@" in netloc else ""
            return creds.split(":", 1)[1:]
        netloc, _, path = rest.partition("/")
        if "@" in netloc:
            creds = netloc.rsplit("@", 1)[0]
            parts.extend(creds.split(":", 1)[1:] if scheme.startswith("postgres") else creds.split(":"))
        elif scheme.split("+")[0] not in ("http", "https", "json", "xml", "form", "console"):
            parts.append(netloc)  # tgram://BOTTOKEN/…, discord://ID/TOKEN: the host part is a credential
        path, _, query = path.partition("?")
        parts.extend(p for p in path.split("/") if len(p) >= 8)
        for pair in query.split("&"):
            _, _, val = pair.partition("=")
            parts.append(val)
    return parts


def redact(text: str) -> str:
    """``text`` with known secrets and secret-looking values replaced by ``***``."""
    if not text:
        return text
    known = _known_re
    if known is not None:
        text = known.sub(MASK, text)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingStream:
    """A text stream that redacts everything written through it (a command's stdout/stderr)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner`` and then redacts the whole line, traceback included."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class JournalFormatter(logging.Formatter):
    """``<priority>logger: message`` — journald reads the prefix as the line's priority."""

    _PRIORITY = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}

    def format(self, record: logging.LogRecord) -> str:
        line = f"<{self._PRIORITY.get(record.levelname, 6)}>{record.name}: {record.getMessage()}"
        if record.exc_info:
            # One journal entry per line: continuation lines keep the priority.
            exc = self.formatException(record.exc_info)
            prio = self._PRIORITY.get(record.levelname, 6)
            line += "".join(f"\n<{prio}>  {x}" for x in exc.splitlines())
        return line


def setup(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    inner: logging.Formatter
    if fmt == "json":
        inner = JsonFormatter()
    elif os.environ.get("JOURNAL_STREAM"):
        inner = JournalFormatter()  # journald adds its own timestamps
    else:
        inner = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    handler.setFormatter(RedactingFormatter(inner))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "urllib3", "requests_oauthlib", "oauthlib", "tweepy", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
