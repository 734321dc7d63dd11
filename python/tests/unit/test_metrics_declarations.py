"""Every metrics class still exposes the metrics it exposed before the metric_set refactor.

Dashboards, alerts and the chart's Prometheus triggers read these names, so a
refactor of how metrics are declared must not change a name, help text, type,
label or bucket. The expectation, metrics_declarations.json, was written by
this module's `--write` from the code before the refactor (not by hand); the
test compares today's code with it.

Regenerate only when a metric is meant to change:
    ../.venv/bin/python tests/unit/test_metrics_declarations.py --write
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from llmaz_serverless.emulator.metrics import VllmMetrics
from llmaz_serverless.events.metrics import EventMetrics
from llmaz_serverless.gateway.async_api import AsyncApiMetrics
from llmaz_serverless.gateway.metrics import GatewayMetrics
from llmaz_serverless.warmup.metrics import WarmupMetrics
from llmaz_serverless.worker.metrics import WorkerMetrics

FIXTURE = Path(__file__).with_name("metrics_declarations.json")


def _vllm(registry: CollectorRegistry) -> tuple[object, CollectorRegistry]:
    # The emulator owns its registry (several emulators share a process), so it ignores ours.
    metrics = VllmMetrics("llama")
    return metrics, metrics.registry


# Each builds one metrics object on a fresh registry and returns it with the registry it filled.
BUILDERS: dict[str, Callable[[CollectorRegistry], tuple[object, CollectorRegistry]]] = {
    "GatewayMetrics": lambda r: (GatewayMetrics(r), r),
    "AsyncApiMetrics": lambda r: (AsyncApiMetrics(r), r),
    "EventMetrics": lambda r: (EventMetrics(r), r),
    "WorkerMetrics": lambda r: (WorkerMetrics(r), r),
    "WarmupMetrics": lambda r: (WarmupMetrics(r), r),
    "VllmMetrics": _vllm,
}


def _declaration(metric: MetricWrapperBase) -> dict[str, Any]:
    # Label names and buckets have no public getter, and a labelled metric with no child
    # exposes neither, so they are read from the collector itself.
    family = metric.describe()[0]
    upper_bounds = getattr(metric, "_upper_bounds", None)
    return {
        "name": family.name,
        "type": family.type,
        "documentation": family.documentation,
        "labels": list(metric._labelnames),
        "buckets": None if upper_bounds is None else [str(b) for b in upper_bounds],
    }


def describe(name: str) -> dict[str, Any]:
    """What one metrics class exposes: each metric's declaration and the text of /metrics."""
    metrics, registry = BUILDERS[name](CollectorRegistry())
    found = [v for v in vars(metrics).values() if isinstance(v, MetricWrapperBase)]
    # Several attributes may be children of one metric (the emulator's per-reason counters).
    declarations = {d["name"]: d for d in map(_declaration, found)}
    # `_created` samples carry the creation time, which differs on every run.
    exposition = [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]
    return {
        "registered": sorted(f.name for f in registry.collect()),
        "declarations": [declarations[k] for k in sorted(declarations)],
        "exposition": exposition,
    }


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_metrics_class_exposes_what_it_exposed_before(name: str) -> None:
    expected = json.loads(FIXTURE.read_text())[name]
    actual = describe(name)
    assert actual["declarations"] == expected["declarations"]
    assert actual["exposition"] == expected["exposition"]
    # Nothing registered that is not an attribute (so not covered by the declarations above).
    assert actual["registered"] == [d["name"] for d in actual["declarations"]]
    assert actual["registered"] == expected["registered"]


def test_fixture_covers_every_metrics_class() -> None:
    assert sorted(json.loads(FIXTURE.read_text())) == sorted(BUILDERS)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {sys.argv[0]} --write  (rewrites {FIXTURE.name} from today's code)")
    FIXTURE.write_text(json.dumps({n: describe(n) for n in sorted(BUILDERS)}, indent=1) + "\n")
    print(f"wrote {FIXTURE}")
