"""Alerts: routing rules, the alert outbox and delivery through Apprise."""

# The console:// Apprise target is registered by the modules that instantiate Apprise URLs
# (delivery, routing.mask_url), not here: the config imports monitor.alerts.settings, and the
# CLI must not load Apprise (~0.3 s) to acknowledge a mention.
