"""Alerts: routing rules, the alert outbox and delivery through Apprise."""

# Register the console:// Apprise target before anything instantiates a URL.
from monitor.alerts import console as _console  # noqa: F401
