"""Declare a component's Prometheus metrics on one registry under one name prefix.

Each component (gateway, worker, warmup, events, emulator) keeps its metrics on
a registry of its own, so tests and emulators can run several in one process,
and its names share a prefix. MetricSet binds both once, so a metric is declared
by what differs: name, help text, labels, and buckets for a histogram.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class MetricSet:
    def __init__(self, registry: CollectorRegistry, prefix: str = "") -> None:
        self.registry = registry
        self.prefix = prefix

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(self.prefix + name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(self.prefix + name, documentation, labels, registry=self.registry)

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str] = (), *, buckets: Sequence[float]
    ) -> Histogram:
        # No default buckets: prometheus_client's (5 ms to 10 s) fit none of our latencies, which
        # run from microseconds (gateway overhead) to an hour (async jobs, cold starts).
        return Histogram(self.prefix + name, documentation, labels, buckets=buckets, registry=self.registry)
