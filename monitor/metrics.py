"""Prometheus metrics this process counts as it works (the health router adds database-derived ones).

Counters and histograms live in :data:`REGISTRY`, a registry of our own so tests
and several apps in one process never collide on prometheus-client's global one.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

MENTIONS_INGESTED = Counter(
    "mention_monitor_mentions_ingested",
    "Mentions stored, by source and triage label",
    ["source", "label"],
    registry=REGISTRY,
)
POLL_ERRORS = Counter(
    "mention_monitor_poll_errors",
    "Failed polls by source and kind (degraded, rate_limited, budget_spent, auth_failed, database)",
    ["source", "kind"],
    registry=REGISTRY,
)
POLLS = Counter("mention_monitor_polls", "Polls made by this instance", ["source"], registry=REGISTRY)
RATE_LIMIT_REMAINING = Gauge(
    "mention_monitor_rate_limit_remaining",
    "Requests left in the platform's rate-limit window, as its last response said",
    ["source", "bucket"],
    registry=REGISTRY,
)
ALERT_LATENCY = Histogram(
    "mention_monitor_alert_latency_seconds",
    "Alert created → delivered to a chat target",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
REPLY_LATENCY = Histogram(
    "mention_monitor_reply_latency_seconds",
    "Reply requested by an agent → confirmed by the platform",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "mention_monitor_deliveries",
    "Delivery attempts made by this instance, by outcome (delivered, failed, unknown, gave_up)",
    ["outcome"],
    registry=REGISTRY,
)
LOOP_STALLED = Gauge(
    "mention_monitor_loops_stalled", "Loops stuck longer than service.stall_after", registry=REGISTRY
)
DB_OUTAGE = Gauge(
    "mention_monitor_database_outage_seconds",
    "Seconds the database has been unreachable (0 when reachable)",
    registry=REGISTRY,
)
