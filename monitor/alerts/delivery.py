"""One Apprise call for one destination, and what its result means for the ledger.

Apprise 2.x returns an ``AppriseResult`` whose status is SUCCESS, FAILURE,
NOMATCH, PARTIAL or TIMEOUT, with a ``NotifyResult`` per service. We map it:

* SUCCESS → ``delivered``;
* FAILURE (the service said no, or could not be reached) → ``failed``: safe to retry;
* TIMEOUT, a failure that took the whole read timeout (the request went out, no answer
  came back), or PARTIAL for a config group
  → ``unknown``: the message may have arrived, so it is shown to operators, never
  blindly re-sent (re-sending on timeout is how other tools double-post);
* NOMATCH (no configured service / tag matched) and invalid URLs → ``failed`` with a
  message saying which setting to fix.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Literal

import apprise
from apprise.result import AppriseResultStatus

from monitor.alerts import console as _console  # noqa: F401  (registers console://)
from monitor.alerts.message import Format, Message, render
from monitor.alerts.routing import Destination

log = logging.getLogger(__name__)

OutcomeStatus = Literal["delivered", "failed", "unknown"]

# urllib3's message when the request was written but no response came back in time.
_READ_TIMEOUT = re.compile(r"read timed out|ReadTimeout|RemoteDisconnected", re.IGNORECASE)
_FORMATS: dict[str, Format] = {"text": "text", "markdown": "markdown", "html": "html"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The ledger's view of one attempt."""

    status: OutcomeStatus
    apprise_status: str
    detail: str
    elapsed: float
    permanent: bool = False  # retrying cannot help (the URL itself is invalid)


def send(
    destination: Destination,
    message: Message,
    *,
    timeout: float,
    quote_limit: int = 600,
) -> Outcome:
    """Render ``message`` for the destination's format and deliver it once."""
    started = time.monotonic()
    obj = apprise.Apprise()
    if destination.url is not None:
        plugin = apprise.Apprise.instantiate(destination.url, suppress_exceptions=True)
        if plugin is None:
            return Outcome(
                "failed",
                "INVALID",
                f"{destination.label}: not a usable Apprise URL (check the route's notify: list; "
                "`apprise --details` lists the schemas)",
                0.0,
                permanent=True,
            )
        read_timeout = _separate_timeouts(plugin)
        fmt = _FORMATS.get(str(getattr(plugin.resolve_format(), "value", "text")), "text")
        body_max = int(getattr(plugin, "body_maxlen", 32768) or 32768)
        title_max = int(getattr(plugin, "title_maxlen", 250) or 0)
        obj.add(plugin)
        tag = apprise.common.MATCH_ALL_TAG
    else:
        config = apprise.AppriseConfig()
        if not config.add(destination.config_path or ""):
            return Outcome(
                "failed",
                "INVALID",
                f"cannot read Apprise config {destination.config_path!r} (check the route's apprise_config)",
                0.0,
            )
        obj.add(config)
        read_timeout = None
        # A group of services: markdown, which Apprise converts to each service's own format.
        fmt, body_max, title_max = "markdown", 32768, 250
        tag = list(destination.tags) or apprise.common.MATCH_ALL_TAG
    title, body = fit(message, fmt, body_max=body_max, title_max=title_max, quote_limit=quote_limit)
    try:
        result = obj.notify(
            body=body,
            title=title,
            notify_type=message.notify_type,
            body_format=fmt,
            tag=tag,
            timeout=timeout,
            log_level=logging.DEBUG,
        )
    except Exception as exc:  # a plugin bug must not kill the notifier thread
        log.exception("Apprise raised while notifying %s", destination.label)
        return Outcome("failed", "EXCEPTION", f"{type(exc).__name__}: {exc}", time.monotonic() - started)
    elapsed = time.monotonic() - started
    try:
        return interpret(result, destination.label, elapsed, read_timeout=read_timeout)
    finally:
        result.close()


def fit(message: Message, fmt: Format, *, body_max: int, title_max: int, quote_limit: int) -> tuple[str, str]:
    """Render for a service's limits; a service without titles (SMS…) gets the title as line one."""
    if title_max:
        # Some services count the title against the body: leave it room.
        return render(
            message,
            fmt,
            body_maxlen=body_max - min(title_max, 250, body_max // 3),
            title_maxlen=title_max,
            quote_limit=quote_limit,
        )
    title_len = max(20, min(120, body_max // 4))
    title, body = render(
        message, fmt, body_maxlen=body_max - title_len - 8, title_maxlen=title_len, quote_limit=quote_limit
    )
    if fmt == "html":
        return "", f"<b>{title}</b><br/>\n{body}"
    return "", f"{title}\n{body}"


def _separate_timeouts(plugin: object) -> float | None:
    """The plugin's read timeout, after making its connect timeout shorter than it.

    Apprise reports an HTTP read timeout as a plain FAILURE, yet the request was
    sent and may have been posted. With connect < read, a failure that took at
    least the read timeout can only be that ambiguous case (see :func:`interpret`).
    """
    rto = getattr(plugin, "socket_read_timeout", None)
    cto = getattr(plugin, "socket_connect_timeout", None)
    if not isinstance(rto, (int, float)) or rto <= 0:
        return None
    if isinstance(cto, (int, float)) and cto >= rto:
        plugin.socket_connect_timeout = rto * 0.5  # type: ignore[attr-defined]
    return float(rto)


def interpret(
    result: apprise.AppriseResult, label: str, elapsed: float, *, read_timeout: float | None = None
) -> Outcome:
    """Map an ``AppriseResult`` to a ledger outcome (see the module docstring)."""
    status = result.status
    name = status.name
    messages = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
    debug = [e.message for e in result.logs()]
    slow_failure = read_timeout is not None and any(
        not r and r.elapsed >= read_timeout * 0.95 for r in result
    )
    detail = "; ".join(dict.fromkeys(messages))[:1000] or name
    if status == AppriseResultStatus.SUCCESS:
        return Outcome("delivered", name, f"{len(result)} service(s) accepted", elapsed)
    if status == AppriseResultStatus.TIMEOUT:
        return Outcome(
            "unknown", name, f"no answer within the deadline; may have arrived ({detail})", elapsed
        )
    if status == AppriseResultStatus.PARTIAL:
        ok = [r.url for r in result if r]
        bad = [f"{r.url}: {r.status.name}" for r in result if not r]
        return Outcome(
            "unknown", name, f"partly delivered (ok: {', '.join(ok)}; not: {', '.join(bad)})", elapsed
        )
    if status == AppriseResultStatus.NOMATCH:
        return Outcome(
            "failed",
            name,
            f"{label}: no Apprise service matched (empty config file or no entry has these tags)",
            elapsed,
        )
    if slow_failure or any(_READ_TIMEOUT.search(line) for line in debug):
        return Outcome("unknown", name, f"sent, but no response came back ({detail})", elapsed)
    return Outcome("failed", name, detail, elapsed)
