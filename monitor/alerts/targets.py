"""Apprise target URLs checked when the config loads, so a typo fails ``check-config``, not the first alert.

Apprise is imported here, inside the check, and only when the check runs: commands
that only read the database load the config without it (Apprise costs ~0.3 s).
"""

from __future__ import annotations

import difflib
import logging


def url_problem(url: str) -> str | None:
    """Why Apprise cannot use ``url`` (never echoing more than its scheme), or None if it can."""
    import apprise
    from apprise.manager_plugins import NotificationManager

    import monitor.alerts.console  # noqa: F401  (registers console://)

    if not url.strip():
        return "empty (if it comes from ${VAR}, set that variable)"
    if "://" not in url:
        return (
            "not an Apprise URL (expected scheme://…, e.g. slack://TokenA/TokenB/TokenC or "
            "mailto://user@example.com); see https://github.com/caronc/apprise/wiki"
        )
    scheme = url.split("://", 1)[0].strip().lower()
    manager = NotificationManager()
    if scheme not in manager:
        known = sorted(manager.schemas())
        hint = difflib.get_close_matches(scheme, known, n=1)
        tip = f"; did you mean '{hint[0]}://'?" if hint else ""
        return f"unknown Apprise scheme '{scheme}://'{tip} (services: https://github.com/caronc/apprise/wiki)"
    # Apprise logs its own complaint about a bad URL; ours (naming the route) replaces it.
    quiet = logging.getLogger("apprise")
    was_disabled, quiet.disabled = quiet.disabled, True
    try:
        plugin_instance = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    finally:
        quiet.disabled = was_disabled
    if plugin_instance is None:
        plugin = manager[scheme]
        where = getattr(plugin, "setup_url", None) or "https://github.com/caronc/apprise/wiki"
        return f"{scheme}:// URL is incomplete or malformed (tokens missing?); its format: {where}"
    return None


def urls_problem(urls: list[str], name: str) -> str | None:
    """One message for every unusable URL of a list, each as ``name[i]``; None when all work."""
    found = [f"{name}[{i}]: {p}" for i, u in enumerate(urls) if (p := url_problem(u)) is not None]
    if len(found) <= 1:
        return found[0] if found else None
    return f"{len(found)} unusable URLs:\n    " + "\n    ".join(found)
