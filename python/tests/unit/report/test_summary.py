from __future__ import annotations

import pytest

from llmaz_serverless.loadtest.records import ReplicaSample
from llmaz_serverless.report.summary import fmt, percentile, replica_seconds, time_at_zero


def _s(points: list[tuple[float, int]]) -> list[ReplicaSample]:
    return [ReplicaSample(t, "m", n) for t, n in points]


def test_replica_seconds_integrate_a_step_function_when_samples_cover_the_window() -> None:
    assert replica_seconds(_s([(0, 1), (10, 3), (20, 0)]), 0, 30) == pytest.approx(10 + 30)


def test_first_sample_holds_from_window_start_and_last_until_its_end_when_samples_are_inside() -> None:
    assert replica_seconds(_s([(5, 2), (15, 1)]), 0, 20) == pytest.approx(2 * 15 + 1 * 5)


def test_samples_outside_the_window_are_clipped_when_integrating() -> None:
    assert replica_seconds(_s([(-10, 4), (10, 1), (50, 7)]), 0, 20) == pytest.approx(4 * 10 + 1 * 10)


def test_time_at_zero_counts_only_zero_segments_when_integrating() -> None:
    assert time_at_zero(_s([(0, 0), (4, 1), (9, 0)]), 0, 10) == pytest.approx(4 + 1)


def test_no_samples_give_zero_when_nothing_was_sampled() -> None:
    assert replica_seconds([], 0, 10) == 0.0


def test_percentile_interpolates_linearly_when_between_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([], 99) is None


def test_fmt_writes_units_consistently_when_rendering_tables() -> None:
    assert fmt("latency_p50_s", 0.12345) == "0.123"
    assert fmt("itl_p99_ms", 12.345) == "12.35"
    assert fmt("error_rate", 0.5) == "0.5000"
    assert fmt("requests", 12) == "12"
    assert fmt("replicas_peak", None) == "n/a"
