"""mention-monitor: watch social platforms for brand mentions, triage them, alert the agents who answer."""

__version__ = "0.1.0"
