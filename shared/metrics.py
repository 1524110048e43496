"""Prometheus metrics shared by every service, served over HTTP on the metrics port."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPC_REQUESTS = Counter("daira_rpc_requests_total", "RPCs handled", ["service", "method", "code"])
RPC_LATENCY = Histogram(
    "daira_rpc_latency_seconds",
    "RPC handling time by status code",
    ["service", "method", "code"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CACHE_REQUESTS = Counter(
    "daira_cache_requests_total", "Cache lookups by tier and outcome", ["tier", "outcome"]
)
CACHE_ERRORS = Counter("daira_cache_errors_total", "Redis failures answered without the cache")
SLOW_QUERIES = Counter("daira_db_slow_queries_total", "Statements slower than the threshold")
DOWNSTREAM_CALLS = Counter(
    "daira_downstream_calls_total",
    "Calls to other services by attempt and status (CIRCUIT_OPEN, NO_TIME_LEFT: not made)",
    ["service", "method", "code"],
)
POOL_CONNECTIONS = Gauge(
    "daira_db_pool_connections", "Database pool connections by state", ["state"]
)
POOL_WAITS = Counter(
    "daira_db_pool_waits_total",
    "Checkouts that found every pool connection (and the overflow) in use, and waited",
)

OUTBOX_BACKLOG = Gauge(
    "daira_outbox_backlog", "Outbox events not yet published (counted up to 10,000)", ["service"]
)
OUTBOX_PUBLISH_LAG = Histogram(
    "daira_outbox_publish_lag_seconds",
    "From an event's recording in the outbox to its publication in Redis",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
CONSUMER_LAG = Gauge(
    "daira_events_consumer_lag_seconds",
    "Age of the oldest stream entry the group has not acknowledged (0: caught up)",
    ["stream", "group"],
)
CONSUMER_PENDING = Gauge(
    "daira_events_consumer_pending",
    "Entries delivered to the group and not yet acknowledged",
    ["stream", "group"],
)
EVENTS_HANDLED = Counter(
    "daira_events_handled_total",
    "Deliveries by outcome (handled, duplicate, failed, skipped: nothing for its handler to do)",
    ["stream", "group", "outcome"],
)
DEAD_LETTERS = Counter(
    "daira_events_dead_letters_total", "Events moved to the dead-letter stream", ["stream", "group"]
)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics; port 0 leaves it off."""
    if port:
        start_http_server(port, addr=host)
