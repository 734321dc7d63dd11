"""Prometheus metrics of one worker process (own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Async jobs run from well under a second (warm, short answers) to an hour
# (a cold start of minutes, then long generation).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge(
            "llmaz_serverless_async_queue_depth",
            "Entries per model: lag = not yet delivered, pending = delivered and not acknowledged",
            ["model", "state"],
            registry=r,
        )
        self.inflight = Gauge("llmaz_serverless_async_inflight", "Jobs this worker is processing", registry=r)
        self.jobs = Counter(
            "llmaz_serverless_async_jobs",
            "Job attempts by outcome: succeeded, failed, retried, dead_lettered, duplicate, released",
            ["model", "outcome"],
            registry=r,
        )
        self.reclaimed = Counter(
            "llmaz_serverless_async_reclaimed",
            "Entries taken over from idle consumers (dead workers or due retries)",
            ["model"],
            registry=r,
        )
        self.latency = Histogram(
            "llmaz_serverless_async_latency_seconds",
            "From enqueue to result stored, per model",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.model_seconds = Histogram(
            "llmaz_serverless_async_model_seconds",
            "Duration of the model call of successful attempts (cold start included)",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.notifications = Counter(
            "llmaz_serverless_async_notifications",
            "Webhook notifications by outcome: delivered, failed",
            ["outcome"],
            registry=r,
        )
