"""Prometheus metrics of one worker process (own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from llmaz_serverless.metric_set import MetricSet

# Async jobs run from well under a second (warm, short answers) to an hour
# (a cold start of minutes, then long generation).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        m = MetricSet(self.registry, "llmaz_serverless_async_")
        self.queue_depth = m.gauge(
            "queue_depth",
            "Entries per model: lag = not yet delivered, pending = delivered and not acknowledged",
            ["model", "state"],
        )
        self.inflight = m.gauge("inflight", "Jobs this worker is processing")
        self.jobs = m.counter(
            "jobs",
            "Job attempts by outcome: succeeded, failed, retried, dead_lettered, duplicate, released",
            ["model", "outcome"],
        )
        self.reclaimed = m.counter(
            "reclaimed", "Entries taken over from idle consumers (dead workers or due retries)", ["model"]
        )
        self.latency = m.histogram(
            "latency_seconds", "From enqueue to result stored, per model", ["model"], buckets=LATENCY_BUCKETS
        )
        self.model_seconds = m.histogram(
            "model_seconds",
            "Duration of the model call of successful attempts (cold start included)",
            ["model"],
            buckets=LATENCY_BUCKETS,
        )
        self.notifications = m.counter(
            "notifications", "Webhook notifications by outcome: delivered, failed", ["outcome"]
        )
