"""Prometheus metrics of event intake and rules.

Labels are bounded: `rule` and `model` come from config, `reason` and `mode`
from fixed lists, never from event content.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry

from llmaz_serverless.metric_set import MetricSet


class EventMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        m = MetricSet(registry if registry is not None else REGISTRY, "llmaz_serverless_events_")
        self.received = m.counter(
            "received_total",
            "CloudEvents accepted, by how they came: structured, binary, batch (POST /v1/events) or stream.",
            ["mode"],
        )
        self.rejected = m.counter(
            "rejected_total",
            "Requests to POST /v1/events refused with a 4xx (and stream entries dropped), by reason.",
            ["reason"],
        )
        self.matched = m.counter("matched_total", "Events that matched a rule, per rule.", ["rule"])
        self.actions = m.counter(
            "actions_total",
            "Actions taken for matching events (duplicate: a redelivered event's job already exists).",
            ["rule", "action", "outcome"],
        )
        self.actions_failed = m.counter(
            "actions_failed_total",
            "Actions that failed, by reason (template: the event lacks a field; request: the async API "
            "refused the rendered job; backend: Redis or the queue unreachable).",
            ["rule", "action", "reason"],
        )
        self.prewarm_windows = m.gauge(
            "prewarm_windows_active", "Open pre-warm windows per model (as last read from Redis).", ["model"]
        )
        self.prewarm_replicas = m.gauge(
            "prewarm_replicas",
            "Replica floor a model's pre-warm windows ask for (what KEDA reads).",
            ["model"],
        )
