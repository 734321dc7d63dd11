"""The gateway's Prometheus metrics, served at /metrics.

All names start with `llmaz_serverless_gateway_`. The `model` label only takes
configured model names (or `_unknown`, `_none`), so a client cannot grow the
series count by sending made-up models. Route modules register their own
metrics on `GatewayContext.metrics.registry` to share the endpoint.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from llmaz_serverless.metric_set import MetricSet

PREFIX = "llmaz_serverless_gateway_"
UNKNOWN_MODEL = "_unknown"
NO_MODEL = "_none"

_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0,
)  # fmt: skip

# The gateway's own share: tens to hundreds of microseconds.
_OVERHEAD_BUCKETS = (
    0.00005, 0.0001, 0.00015, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
)  # fmt: skip


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        m = MetricSet(self.registry, PREFIX)
        self.requests = m.counter(
            "requests", "Requests answered, by model and HTTP status.", ["model", "code"]
        )
        self.duration = m.histogram(
            "request_duration_seconds",
            "Time from request to the end of the answer (whole stream), by model.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
        )
        self.upstream_wait = m.histogram(
            "upstream_response_header_seconds",
            "Time until the upstream's response headers, cold-start holds included, by model.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
        )
        self.overhead = m.histogram(
            "overhead_seconds",
            "The gateway's own time on a proxied request: from taking it to handing it to the upstream "
            "connection pool (first attempt), by model.",
            ["model"],
            buckets=_OVERHEAD_BUCKETS,
        )
        self.in_flight = m.gauge("in_flight_requests", "Requests being proxied, by model.", ["model"])
        self.cache_hits = m.counter(
            "cache_hits",
            "Answers served from the cache, by model and tier (local memory or redis).",
            ["model", "tier"],
        )
        self.cache_misses = m.counter("cache_misses", "Cacheable requests not found in the cache.", ["model"])
        self.cache_stores = m.counter("cache_stores", "Answers stored in the cache.", ["model"])
        self.cache_errors = m.counter("cache_errors", "Redis errors or timeouts of the cache.")
        self.upstream_errors = m.counter(
            "upstream_errors",
            "Failed upstream attempts, by model and reason (connect, status_502, status_503, "
            "status_504, timeout, disconnect).",
            ["model", "reason"],
        )
        self.cold_start_timeouts = m.counter(
            "cold_start_timeouts",
            "Requests whose model did not answer within its cold-start budget.",
            ["model"],
        )
        self.failovers = m.counter("failovers", "Requests sent to the failover model.", ["model", "failover"])
