"""Alerts: routing rules, the alert outbox and delivery through Apprise."""
