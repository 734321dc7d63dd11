"""The simulated decision loop: cold starts, cooldown, floors, HPA tolerance, stabilization, policies."""

from __future__ import annotations

import dataclasses

import pytest

from llmaz_serverless.model_timing import ModelTiming
from llmaz_serverless.plan.local import _LocalPool, simulate_local
from llmaz_serverless.plan.settings import Direction, Policy, Scaling, Service
from llmaz_serverless.plan.simulate import HPA_SYNC, PUSH_INTERVAL, simulate_keda
from llmaz_serverless.scale_to_zero import ScaleToZeroSettings
from llmaz_serverless.trace.model import Arrival


def _flat(cold_start: float, seconds: float) -> Service:
    """A model that works `seconds` on every request, whatever its tokens."""
    return Service(cold_start, ModelTiming(ttft=seconds, prefill_per_token=0.0, itl=0.0))


SVC = _flat(30.0, 1.0)
BASE = Scaling(min_replicas=0, max_replicas=4, polling_interval=15.0, cooldown=300.0, concurrency_target=1.0)


def _at(*times: float) -> list[Arrival]:
    return [Arrival(t) for t in times]


def test_a_request_at_zero_waits_for_the_push_and_the_cold_start() -> None:
    out = simulate_keda(_at(10.0), BASE, SVC, end=100.0, timeline=True)
    assert out.cold_requests == 1
    assert out.waits[0] == pytest.approx(SVC.cold_start + PUSH_INTERVAL)
    assert out.scale_ups_from_zero == 1


def test_requests_during_the_load_wait_for_the_same_replica() -> None:
    out = simulate_keda(_at(0.0, 10.0, 29.0, 40.0), BASE, SVC, end=100.0, timeline=True)
    assert out.cold_requests == 3  # 40 s comes after Ready at 30.2 s
    assert list(out.waits[:3]) == pytest.approx([30.2, 20.2, 1.2])
    assert out.scale_ups_from_zero == 1


def test_cooldown_decides_whether_the_second_burst_is_cold() -> None:
    times = (0.0, 400.0)  # 399 s of silence between the answers
    short = simulate_keda(
        _at(*times), dataclasses.replace(BASE, cooldown=60.0), SVC, end=500.0, timeline=True
    )
    long = simulate_keda(
        _at(*times), dataclasses.replace(BASE, cooldown=600.0), SVC, end=500.0, timeline=True
    )
    assert (short.cold_requests, short.scale_ups_from_zero) == (2, 2)
    assert (long.cold_requests, long.scale_ups_from_zero) == (1, 1)
    assert short.replica_seconds < long.replica_seconds
    # Zero at the first "not active" push after the answer's end (31.2 s) + cooldown 60 s, not at a poll.
    assert (pytest.approx(31.2 + 60.0 + PUSH_INTERVAL), 0) in short.timeline


def test_a_floor_keeps_the_model_warm_and_billed() -> None:
    out = simulate_keda(_at(100.0), dataclasses.replace(BASE, min_replicas=1), SVC, end=200.0, timeline=True)
    assert out.cold_requests == 0
    assert out.replica_seconds == pytest.approx(200.0)


def test_idle_replica_count_is_the_level_after_cooldown() -> None:
    s = dataclasses.replace(BASE, min_replicas=1, idle_replicas=0, cooldown=30.0)
    out = simulate_keda(_at(0.0), s, SVC, end=300.0, timeline=True)
    assert out.timeline[-1][1] == 0


def test_hpa_scale_up_is_capped_by_its_policy() -> None:
    # 10 requests of 200 s in flight at once want 10 replicas; the policy allows +2 per 60 s.
    slow = _flat(5.0, 200.0)
    s = dataclasses.replace(BASE, max_replicas=10, up=Direction(0.0, (Policy("Pods", 2, 60),)))
    out = simulate_keda(_at(*[0.0] * 10), s, slow, end=150.0, timeline=True)
    counts = [n for t, n in out.timeline if t <= 61.0]
    assert counts[-1] == 3  # 1 from KEDA's activation, +2 at the first sync, nothing more inside 60 s
    assert max(n for _, n in out.timeline) == 7  # 61 s: +2 again (5), 121 s: +2 (7)


def test_hpa_tolerance_keeps_the_count_within_ten_percent() -> None:
    # 21 in flight with target 2 on 10 replicas: ratio 1.05 is inside the 0.1 tolerance.
    long = _flat(0.0, 100.0)
    s = dataclasses.replace(BASE, min_replicas=10, max_replicas=20, concurrency_target=2.0)
    out = simulate_keda(_at(*[0.0] * 21), s, long, end=50.0, timeline=True)
    assert out.peak_replicas == 10


def test_scale_down_waits_for_the_stabilization_window() -> None:
    busy = _flat(0.0, 20.0)
    s = dataclasses.replace(
        BASE, min_replicas=1, max_replicas=4, down=Direction(120.0, (Policy("Percent", 100, 15),))
    )
    out = simulate_keda(_at(*[0.0] * 4), s, busy, end=400.0, timeline=True)
    down = [t for (t, n), (_, prev) in zip(out.timeline[1:], out.timeline, strict=False) if n < prev]
    # Work ends at 20 s; the 4-replica recommendation from the 15 s sync holds until 15 + 120 s.
    assert down and down[0] == pytest.approx(HPA_SYNC * 10)


def test_local_scaler_rules() -> None:
    local = ScaleToZeroSettings(
        max_replicas=3, target_concurrency=1.0, scale_to_zero_after=8.0, polling_interval=0.5
    )
    svc = _flat(4.0, 1.0)
    out = simulate_local(_at(0.0, 0.1, 20.0), local, svc, end=40.0, timeline=True)
    # Both first requests wait for the replica the first one woke; the third comes after the 8 s idle.
    assert out.cold_requests == 3
    assert out.scale_ups_from_zero == 2
    assert out.peak_replicas == 2  # the poll at 0.5 s sees 2 in flight (held requests count)


def test_local_removed_replica_is_billed_until_its_requests_end() -> None:
    pool = _LocalPool(timeline=False)
    svc = Service(cold_start=0.0)
    pool.scale(0.0, 2, 0.0)
    # Two 10 s requests at 1 s go one to each replica (fewest in flight first).
    assert [pool.assign(1.0, 10.0, svc, 60.0)[2] for _ in range(2)] == [11.0, 11.0]
    pool.scale(2.0, 1, 0.0)
    assert pool.count(5.0) == 2 and pool.count(11.5) == 1  # the removed one drains until 11 s
    assert pool.billed(20.0) == pytest.approx(20.0 + 11.0)


def test_local_first_requests_on_a_new_replica_are_slower() -> None:
    local = ScaleToZeroSettings(max_replicas=1, scale_to_zero_after=5.0)
    plain = _flat(1.0, 2.0)
    slow_first = dataclasses.replace(plain.timing, cold_requests=1, cold_factor=3.0)
    warmup = dataclasses.replace(plain, timing=slow_first)
    # The slow first answer (6 s instead of 2 s) keeps the replica busy, so it goes to zero later.
    a = simulate_local(_at(0.0), local, plain, end=30.0)
    b = simulate_local(_at(0.0), local, warmup, end=30.0)
    assert b.replica_seconds == pytest.approx(a.replica_seconds + 4.0, abs=0.6)


def test_the_rate_metric_keeps_the_model_active_for_its_window() -> None:
    s = dataclasses.replace(BASE, cooldown=60.0, rate_target=10.0, rate_window=120.0)
    out = simulate_keda(_at(0.0), s, SVC, end=400.0, timeline=True)
    # Active until the arrival leaves the 120 s window, then the 60 s cooldown.
    assert out.timeline[-1] == (pytest.approx(120.0 + 60.0 + PUSH_INTERVAL), 0)


def test_an_event_prewarm_window_wakes_the_model_at_the_next_poll() -> None:
    # An event at 5 s opens a 120 s window for 1 replica; KEDA polls the trigger every 15 s.
    window = ((5.0, 125.0, 1),)
    out = simulate_keda(_at(60.0), BASE, SVC, end=200.0, timeline=True, prewarm=window)
    assert out.timeline[1] == (15.0, 1)  # up at the first poll, Ready at 45 s
    assert out.cold_requests == 0
    without = simulate_keda(_at(60.0), BASE, SVC, end=200.0)
    assert without.cold_requests == 1
