"""The web dashboard (inbox, mention pages, incidents, reports) and the signed links in alerts, on FastAPI."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import Config


def wanted(config: Config) -> bool:
    """Whether the daemon should serve the web app: the dashboard, or acknowledge links, is on.

    Here, not in :mod:`monitor.web.server`, so a daemon without them never imports FastAPI.
    """
    dash = config.dashboard
    return dash.enabled or bool(dash.public_url and dash.secret_key)
