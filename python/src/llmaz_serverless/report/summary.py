"""Every number of a report, computed from the raw CSVs of one run.

Percentiles use linear interpolation between closest ranks (numpy's default),
over successful requests unless said otherwise. Throughput and cost use the
load window from run.json (first user started -> locust stopped).

Cost line: replicas are integrated over the window as a step function (each
sample holds until the next one; the first holds from the window start, the
last until its end) giving replica-seconds used; an always-on deployment sized
for the peak would have run `peak replicas x window` replica-seconds. Replicas
counted are those that exist (loading or ready), because a loading GPU pod
is billed too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmaz_serverless.loadtest.coldstart import ScaleUpEvent, attach, cold_waits, scale_up_events
from llmaz_serverless.loadtest.records import ReplicaSample
from llmaz_serverless.report.rundata import RunData


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def replica_seconds(samples: list[ReplicaSample], start: float, end: float) -> float:
    """Integral of `replicas` over [start, end] for one model's samples (step function)."""
    ss = sorted(samples, key=lambda s: s.time)
    if not ss or end <= start:
        return 0.0
    total = 0.0
    for i, sample in enumerate(ss):
        seg_start = start if i == 0 else max(start, sample.time)
        seg_end = end if i == len(ss) - 1 else min(end, ss[i + 1].time)
        if seg_end > seg_start:
            total += sample.replicas * (seg_end - seg_start)
    return total


def time_at_zero(samples: list[ReplicaSample], start: float, end: float) -> float:
    """Seconds of [start, end] with zero replicas (same step function as replica_seconds)."""
    zero = [ReplicaSample(s.time, s.model, 1 if s.replicas == 0 else 0) for s in samples]
    return replica_seconds(zero, start, end)


@dataclass
class ModelCost:
    model: str
    peak: int
    replica_seconds: float
    always_on_seconds: float
    zero_seconds: float


@dataclass
class Summary:
    metrics: dict[str, Any]
    errors_by_kind: dict[str, int]
    costs: list[ModelCost]
    events: list[ScaleUpEvent]
    cold: dict[str, float] = field(default_factory=dict)


# Every metric with its label and unit, in report order. Keys are what
# thresholds.yaml and the tests refer to.
METRICS: list[tuple[str, str]] = [
    ("window_s", "Load window (s)"),
    ("requests", "Requests sent"),
    ("ok", "Requests succeeded"),
    ("errors", "Requests failed"),
    ("error_rate", "Error rate"),
    ("throughput_rps", "Throughput (successful req/s)"),
    ("output_tokens_per_s", "Output tokens/s"),
    ("latency_p50_s", "Latency p50 (s)"),
    ("latency_p90_s", "Latency p90 (s)"),
    ("latency_p95_s", "Latency p95 (s)"),
    ("latency_p99_s", "Latency p99 (s)"),
    ("latency_max_s", "Latency max (s)"),
    ("ttft_p50_s", "TTFT p50 (s)"),
    ("ttft_p90_s", "TTFT p90 (s)"),
    ("ttft_p99_s", "TTFT p99 (s)"),
    ("ttft_warm_p50_s", "TTFT p50, warm requests only (s)"),
    ("ttft_warm_p99_s", "TTFT p99, warm requests only (s)"),
    ("itl_p50_ms", "Inter-token latency p50 (ms)"),
    ("itl_p90_ms", "Inter-token latency p90 (ms)"),
    ("itl_p99_ms", "Inter-token latency p99 (ms)"),
    ("itl_count", "Inter-token gaps measured"),
    ("cold_requests", "Requests that waited for a scale-up"),
    ("cold_events", "Scale-ups from zero"),
    ("cold_wait_p50_s", "Cold-start wait p50 (s)"),
    ("cold_wait_max_s", "Cold-start wait max (s)"),
    ("warm_ttfb_p50_s", "Time to headers p50, warm requests (s)"),
    ("replica_samples", "Replica samples"),
    ("replicas_peak", "Peak replicas"),
    ("replica_seconds", "Replica-seconds used"),
    ("always_on_replica_seconds", "Replica-seconds always-on at peak"),
    ("replica_seconds_saved_pct", "Replica-seconds saved (%)"),
    ("time_at_zero_pct", "Time at zero replicas (%)"),
]


def summarize(run: RunData) -> Summary:
    start, end = run.window
    window = max(end - start, 1e-9)
    records = run.records
    ok = [r for r in records if r.outcome == "ok"]
    failed = [r for r in records if r.outcome != "ok"]
    cold = cold_waits(records, run.samples)
    events = scale_up_events(run.samples)
    attach(events, records, cold)

    latency = [r.total_s for r in ok if r.total_s is not None]
    ttft = [r.ttft_s for r in ok if r.ttft_s is not None]
    ttft_warm = [r.ttft_s for r in ok if r.ttft_s is not None and r.request_id not in cold]
    itl = [gap for r in ok for gap in r.itl_ms]
    warm_ttfb = [r.ttfb_s for r in ok if r.ttfb_s is not None and r.request_id not in cold]
    waits = list(cold.values())

    costs = []
    for model in run.models:
        ss = [s for s in run.samples if s.model == model]
        if not ss:
            continue
        peak = max(s.replicas for s in ss)
        costs.append(
            ModelCost(
                model,
                peak,
                replica_seconds(ss, start, end),
                peak * (end - start),
                time_at_zero(ss, start, end),
            )
        )
    used = sum(c.replica_seconds for c in costs)
    always_on = sum(c.always_on_seconds for c in costs)

    m: dict[str, Any] = {
        "window_s": end - start,
        "requests": len(records),
        "ok": len(ok),
        "errors": len(failed),
        "error_rate": len(failed) / len(records) if records else None,
        "throughput_rps": len(ok) / window,
        "output_tokens_per_s": sum(r.output_tokens for r in ok) / window,
        "latency_max_s": max(latency) if latency else None,
        "itl_count": len(itl),
        "cold_requests": len(cold),
        "cold_events": len(events),
        "cold_wait_p50_s": percentile(waits, 50),
        "cold_wait_max_s": max(waits) if waits else None,
        "warm_ttfb_p50_s": percentile(warm_ttfb, 50),
        "replica_samples": len(run.samples),
        "replicas_peak": max((c.peak for c in costs), default=None),
        "replica_seconds": used if costs else None,
        "always_on_replica_seconds": always_on if costs else None,
        "replica_seconds_saved_pct": 100.0 * (1 - used / always_on) if always_on > 0 else None,
        "time_at_zero_pct": (
            100.0 * sum(c.zero_seconds for c in costs) / (len(costs) * window) if costs else None
        ),
    }
    for q in (50, 90, 95, 99):
        m[f"latency_p{q}_s"] = percentile(latency, q)
    for q in (50, 90, 99):
        m[f"ttft_p{q}_s"] = percentile(ttft, q)
        m[f"itl_p{q}_ms"] = percentile(itl, q)
    for q in (50, 99):
        m[f"ttft_warm_p{q}_s"] = percentile(ttft_warm, q)
    errors_by_kind = dict(Counter(r.error or "unknown" for r in failed).most_common())
    return Summary(metrics=m, errors_by_kind=errors_by_kind, costs=costs, events=events, cold=cold)


def fmt(key: str, value: Any) -> str:
    """How a metric is written in the Markdown and HTML tables (tests parse these back)."""
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    if key == "error_rate":
        return f"{value:.4f}"
    if key.endswith("_ms") or key.endswith("_pct"):
        return f"{value:.2f}"
    if key.endswith("_s") or key.endswith("_per_s") or key.endswith("_rps") or key.endswith("seconds"):
        return f"{value:.3f}"
    return f"{value:.4g}"
