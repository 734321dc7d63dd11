"""MetricSet declares metrics on its own registry, under its prefix, with the labels and buckets given."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from llmaz_serverless.metric_set import MetricSet


def test_counter_is_named_with_the_prefix_and_counts_on_the_bound_registry() -> None:
    registry = CollectorRegistry()
    jobs = MetricSet(registry, "llmaz_serverless_test_").counter("jobs", "Jobs by outcome.", ["outcome"])
    jobs.labels("ok").inc(3)
    assert registry.get_sample_value("llmaz_serverless_test_jobs_total", {"outcome": "ok"}) == 3.0
    # Nothing leaks into the process-wide default registry.
    assert REGISTRY.get_sample_value("llmaz_serverless_test_jobs_total", {"outcome": "ok"}) is None


def test_gauge_without_labels_is_a_single_series() -> None:
    registry = CollectorRegistry()
    inflight = MetricSet(registry, "test_").gauge("inflight", "Jobs in progress.")
    inflight.set(2)
    (family,) = registry.collect()
    assert (family.name, family.type, family.documentation) == ("test_inflight", "gauge", "Jobs in progress.")
    assert [(s.labels, s.value) for s in family.samples] == [({}, 2.0)]


def test_histogram_uses_the_given_buckets() -> None:
    registry = CollectorRegistry()
    latency = MetricSet(registry, "test_").histogram("seconds", "Latency.", ["model"], buckets=(1, 10))
    latency.labels("llama").observe(5)
    buckets = {
        s.labels["le"]: s.value
        for s in next(iter(registry.collect())).samples
        if s.name == "test_seconds_bucket"
    }
    assert buckets == {"1.0": 0.0, "10.0": 1.0, "+Inf": 1.0}


def test_histogram_has_no_default_buckets() -> None:
    with pytest.raises(TypeError, match="buckets"):
        MetricSet(CollectorRegistry()).histogram("seconds", "Latency.")  # type: ignore[call-arg]


def test_sets_on_separate_registries_may_declare_the_same_name() -> None:
    # Why each component owns a registry: tests and emulators run several in one process.
    first, second = CollectorRegistry(), CollectorRegistry()
    MetricSet(first, "p_").counter("n", "N.").inc()
    MetricSet(second, "p_").counter("n", "N.")
    assert first.get_sample_value("p_n_total") == 1.0
    assert second.get_sample_value("p_n_total") == 0.0


def test_a_name_declared_twice_on_one_registry_is_refused() -> None:
    metrics = MetricSet(CollectorRegistry(), "p_")
    metrics.gauge("depth", "Depth.")
    with pytest.raises(ValueError, match="p_depth"):
        metrics.gauge("depth", "Depth again.")
