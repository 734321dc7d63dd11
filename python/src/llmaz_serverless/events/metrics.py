"""Prometheus metrics of event intake and rules.

Labels are bounded: `rule` and `model` come from config, `reason` and `mode`
from fixed lists, never from event content.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge


class EventMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else REGISTRY
        self.received = Counter(
            "llmaz_serverless_events_received_total",
            "CloudEvents accepted, by how they came: structured, binary, batch (POST /v1/events) or stream.",
            ["mode"],
            registry=registry,
        )
        self.rejected = Counter(
            "llmaz_serverless_events_rejected_total",
            "Requests to POST /v1/events refused with a 4xx (and stream entries dropped), by reason.",
            ["reason"],
            registry=registry,
        )
        self.matched = Counter(
            "llmaz_serverless_events_matched_total",
            "Events that matched a rule, per rule.",
            ["rule"],
            registry=registry,
        )
        self.actions = Counter(
            "llmaz_serverless_events_actions_total",
            "Actions taken for matching events (duplicate: a redelivered event's job already exists).",
            ["rule", "action", "outcome"],
            registry=registry,
        )
        self.actions_failed = Counter(
            "llmaz_serverless_events_actions_failed_total",
            "Actions that failed, by reason (template: the event lacks a field; request: the async API "
            "refused the rendered job; backend: Redis or the queue unreachable).",
            ["rule", "action", "reason"],
            registry=registry,
        )
        self.prewarm_windows = Gauge(
            "llmaz_serverless_events_prewarm_windows_active",
            "Open pre-warm windows per model (as last read from Redis).",
            ["model"],
            registry=registry,
        )
        self.prewarm_replicas = Gauge(
            "llmaz_serverless_events_prewarm_replicas",
            "Replica floor a model's pre-warm windows ask for (what KEDA reads).",
            ["model"],
            registry=registry,
        )
