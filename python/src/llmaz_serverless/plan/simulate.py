"""The decision loop of one model, simulated over a trace: requests, replicas, KEDA, the HPA.

Event driven: the clock jumps from one arrival or controller tick to the next, so an hour of 20k
requests costs a few tens of milliseconds. Each request keeps the interceptor's concurrency up from
its arrival until its answer ends (a held request counts while it waits, as in the add-on); a
replica is billed from its creation and serves once `Service.cold_start` has passed. Every rule
below is stated, with where the pinned upstream defines it, in docs/design/planner.md.

The local stand-ins (the emulator and the load test's scaler) decide with the simpler rule of
scale_to_zero.py, in real time; its docstring says why the two models stay apart.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmaz_serverless.plan.cron import active_intervals
from llmaz_serverless.plan.settings import Direction, EventPrewarm, Scaling, Service
from llmaz_serverless.trace.model import Arrival

# The add-on's external scaler pushes "active" to KEDA every 200 ms (StreamIsActive), so a
# request at zero starts the scale-up this long after it arrives, not at KEDA's next poll.
PUSH_INTERVAL = 0.2
# kube-controller-manager --horizontal-pod-autoscaler-sync-period (default 15 s).
HPA_SYNC = 15.0
# kube-controller-manager --horizontal-pod-autoscaler-tolerance (default 0.1).
HPA_TOLERANCE = 0.1


@dataclass
class Outcome:
    """What one simulated run costs and how requests fared."""

    requests: int
    replica_seconds: float
    cold_requests: int
    # Added wait (seconds) of every request: 0 for a request that found a Ready replica.
    waits: np.ndarray
    timeouts: int
    peak_replicas: int
    scale_ups_from_zero: int
    duration: float
    # (time, replicas) after every change, for plots.
    timeline: list[tuple[float, int]] = field(default_factory=list)

    @property
    def cold_share(self) -> float:
        return self.cold_requests / self.requests if self.requests else 0.0

    def wait_percentile(self, q: float) -> float:
        return float(np.percentile(self.waits, q)) if self.requests else 0.0

    def gpu_hours(self, gpus_per_replica: float = 1.0) -> float:
        return self.replica_seconds * gpus_per_replica / 3600.0


class _Pool:
    """Replicas that exist: the time each one is (or will be) Ready, and the replica-seconds billed."""

    def __init__(self, start: float, timeline: bool) -> None:
        self.ready_at: list[float] = []
        # The earliest time any replica is Ready (inf with none): a request before it waits.
        self.first_ready = math.inf
        self.billed = 0.0
        self.since = start
        self.peak = 0
        self.ups_from_zero = 0
        self.timeline: list[tuple[float, int]] | None = [(start, 0)] if timeline else None

    @property
    def count(self) -> int:
        return len(self.ready_at)

    def scale(self, now: float, replicas: int, cold_start: float) -> None:
        current = len(self.ready_at)
        if replicas == current:
            return
        self.billed += current * (now - self.since)
        self.since = now
        if replicas > current:
            if current == 0:
                self.ups_from_zero += 1
            self.ready_at.extend([now + cold_start] * (replicas - current))
            self.peak = max(self.peak, replicas)
        else:
            # A ReplicaSet deletes pods that are not Ready (the newest) first.
            self.ready_at.sort()
            del self.ready_at[replicas:]
        self.first_ready = min(self.ready_at, default=math.inf)
        if self.timeline is not None:
            self.timeline.append((now, replicas))

    def close(self, end: float) -> float:
        self.billed += len(self.ready_at) * (end - self.since)
        self.since = end
        return self.billed


class _Hpa:
    """The HPA's replica calculation with tolerance, stabilization windows and scaling policies."""

    def __init__(self, s: Scaling) -> None:
        self.s = s
        self.recommendations: list[tuple[float, int]] = []
        self.events: list[tuple[float, int]] = []  # (time, replica change) for the policies' periods

    def reset(self) -> None:
        # At zero the HPA is disabled (KEDA owns 0 <-> 1); its history does not carry over.
        self.recommendations.clear()
        self.events.clear()

    @staticmethod
    def _ratio_replicas(value: float, target: float, current: int) -> int:
        usage_ratio = value / (target * current)
        if abs(usage_ratio - 1.0) <= HPA_TOLERANCE:
            return current
        return math.ceil(value / target)

    def _limit(self, d: Direction, now: float, current: int, up: bool) -> int:
        limits = []
        for p in d.policies:
            in_period = sum(delta for t, delta in self.events if t > now - p.period and (delta > 0) == up)
            start = current - in_period
            if p.kind == "Pods":
                limits.append(start + p.value if up else start - p.value)
            elif up:
                limits.append(math.ceil(start * (1 + p.value / 100)))
            else:
                limits.append(math.ceil(start * (1 - p.value / 100)))
        if d.select == "Disabled" or not limits:
            return current
        if up:
            return int(max(limits) if d.select == "Max" else min(limits))
        return int(min(limits) if d.select == "Max" else max(limits))

    def desired(self, now: float, current: int, metrics: list[tuple[float, float]]) -> int:
        raw = max(self._ratio_replicas(value, target, current) for value, target in metrics)
        self.recommendations.append((now, raw))
        horizon = max(self.s.up.window, self.s.down.window)
        self.recommendations = [(t, r) for t, r in self.recommendations if t > now - horizon - 1e-9]
        up_rec = min((r for t, r in self.recommendations if t > now - self.s.up.window - 1e-9), default=raw)
        down_rec = max(
            (r for t, r in self.recommendations if t > now - self.s.down.window - 1e-9), default=raw
        )
        want = current
        want = max(want, min(up_rec, raw))
        want = min(want, down_rec)
        if want > current:
            want = min(want, self._limit(self.s.up, now, current, up=True))
        elif want < current:
            want = max(want, self._limit(self.s.down, now, current, up=False))
        want = min(max(want, max(1, self.s.min_replicas)), self.s.max_replicas)
        if want != current:
            self.events.append((now, want - current))
            keep = max(_longest(self.s.up), _longest(self.s.down))
            self.events = [(t, dlt) for t, dlt in self.events if t > now - keep]
        return want


def _longest(d: Direction) -> float:
    return max((p.period for p in d.policies), default=0.0)


class _Requests:
    """Requests in flight at the interceptor: ends in a heap, and the last time any was in flight."""

    def __init__(self) -> None:
        self.ends: list[float] = []
        self.last_busy = -math.inf

    def advance(self, now: float) -> int:
        ends = self.ends
        while ends and ends[0] <= now:
            self.last_busy = max(self.last_busy, heapq.heappop(ends))
        return len(ends)

    def add(self, end: float) -> None:
        heapq.heappush(self.ends, end)


def service_times(arrivals: list[Arrival], svc: Service) -> list[float]:
    """Seconds each request keeps the model busy once a replica has it (computed once per trace)."""
    return [svc.seconds(a.prompt_tokens, a.output_tokens) for a in arrivals]


# Long on purpose: one discrete-event loop whose nested helpers share its state (pool, HPA, in-flight
# requests, KEDA's last active time); the arrival loop inside runs once per request for every
# candidate the planner's search tries, so it reads locals rather than attributes of a state object.
def simulate_keda(
    arrivals: list[Arrival],
    s: Scaling,
    svc: Service,
    start_epoch: float | None = None,
    end: float | None = None,
    timeline: bool = False,
    service_s: list[float] | None = None,
    prewarm: tuple[tuple[float, float, int], ...] = (),
) -> Outcome:
    """The cluster's loop: HTTP add-on metric and push, KEDA activation/cooldown, the HPA.

    `service_s`: `service_times(arrivals, svc)`, when the caller simulates the same trace many times.
    `prewarm`: event pre-warm windows (from, to, replicas) of this model (`event_windows`).
    """
    times = [a.t for a in arrivals]
    end = max(end if end is not None else 0.0, (times[-1] if times else 0.0) + 1.0)
    # Cron windows and event pre-warm windows act alike: a trigger that is active, with a metric of
    # `replicas` against a target of 1, while the window is open.
    windows = [
        (lo, hi, w.desired) for lo, hi, w in (active_intervals(s.cron, start_epoch, end) if s.cron else ())
    ]
    windows += prewarm
    pool = _Pool(0.0, timeline)
    hpa = _Hpa(s)
    flight = _Requests()
    waits = np.zeros(len(arrivals))
    cold = timeouts = 0
    # KEDA's last active time: the install is taken to be older than initialCooldownPeriod.
    last_active = -math.inf
    keda_next, hpa_next = s.polling_interval, HPA_SYNC
    i, n = 0, len(arrivals)

    def cron_desired(now: float) -> int:
        return max((desired for lo, hi, desired in windows if lo <= now < hi), default=0)

    # The state the trace starts in: a floor, or a pre-warm window already open, is up and Ready.
    initial = max(s.min_replicas if s.idle_replicas is None else 0, cron_desired(0.0))
    if initial > 0:
        pool.scale(0.0, min(initial, s.max_replicas), 0.0)
        pool.ups_from_zero = 0
        last_active = 0.0

    def keda_poll(now: float) -> None:
        nonlocal last_active
        in_flight = flight.advance(now)
        rate_active = s.rate_target is not None and bisect_right(times, now) > bisect_left(
            times, now - s.rate_window
        )
        active = in_flight > 0 or rate_active or cron_desired(now) > 0
        if active:
            last_active = now
            if pool.count == 0 or (s.idle_replicas is not None and pool.count < s.min_replicas):
                # scaleFromZeroOrIdle: straight to minReplicaCount (at least 1); then the HPA.
                pool.scale(now, max(1, s.min_replicas), svc.cold_start)
        elif pool.count < s.min_replicas and s.idle_replicas is None:
            pool.scale(now, s.min_replicas, svc.cold_start)

    def hpa_sync(now: float) -> None:
        if pool.count == 0:
            return
        in_flight = flight.advance(now)
        metrics = [(float(in_flight), s.concurrency_target)]
        if s.rate_target is not None:
            count = bisect_right(times, now) - bisect_left(times, now - s.rate_window)
            metrics.append((count / s.rate_window, s.rate_target))
        desired = cron_desired(now)
        if desired:
            metrics.append((float(desired), 1.0))
        want = hpa.desired(now, pool.count, metrics)
        pool.scale(now, want, svc.cold_start)

    service = service_s if service_s is not None else service_times(arrivals, svc)
    ends = flight.ends
    hold = s.hold_timeout
    idle_level = s.idle_replicas or 0
    can_idle = s.min_replicas == 0 or s.idle_replicas is not None
    # The latest time the add-on's metric is above 0: the last answer's end, or with the rate metric
    # the last arrival + its window. The external scaler pushes "not active" every PUSH_INTERVAL, so
    # KEDA scales in at the first push after lastActiveTime + cooldownPeriod, not at its next poll.
    busy_until = -math.inf
    rate_window = s.rate_window if s.rate_target is not None else 0.0

    def zero_at() -> float:
        if not can_idle or pool.count <= idle_level:
            return math.inf
        return max(busy_until, last_active) + s.cooldown + PUSH_INTERVAL

    while True:
        deactivate = zero_at()
        tick = min(keda_next, hpa_next, deactivate)
        # Arrivals before the next controller event, in a tight loop: the hot path of a long trace.
        # An arrival only moves `deactivate` later, so every arrival before the old value is in time.
        while i < n and times[i] < tick and times[i] <= end:
            now = times[i]
            if not pool.ready_at or (s.idle_replicas is not None and len(pool.ready_at) < s.min_replicas):
                # The interceptor holds it (at zero); the external scaler's push wakes KEDA within
                # PUSH_INTERVAL, which scales to minReplicaCount (at least 1).
                last_active = now
                pool.scale(now, max(1, s.min_replicas), svc.cold_start + PUSH_INTERVAL)
            wait = 0.0 if pool.first_ready <= now else pool.first_ready - now
            if wait > 0:
                cold += 1
                if wait > hold:
                    wait = hold
                    timeouts += 1
                    done = now + hold
                else:
                    done = now + wait + service[i]
                waits[i] = wait
            else:
                done = now + service[i]
            heapq.heappush(ends, done)
            busy_until = max(busy_until, done, now + rate_window)
            i += 1
        deactivate = zero_at()
        tick = min(keda_next, hpa_next, deactivate)
        if i < n and times[i] < tick and times[i] <= end:
            continue
        if tick > end:
            break
        if tick == deactivate:
            if cron_desired(tick) > 0:
                last_active = tick  # a pre-warm window keeps the model active
            else:
                pool.scale(tick, idle_level, svc.cold_start)
                hpa.reset()
        elif tick == keda_next:
            keda_poll(tick)
            keda_next += s.polling_interval
        else:
            hpa_sync(tick)
            hpa_next += HPA_SYNC
    billed = pool.close(end)
    return Outcome(n, billed, cold, waits, timeouts, pool.peak, pool.ups_from_zero, end, pool.timeline or [])


def event_windows(
    events: list[tuple[float, dict[str, Any]]], prewarms: list[EventPrewarm], model: tuple[str, ...]
) -> tuple[tuple[float, float, int], ...]:
    """(from, to, replicas) for every event that an enabled rule's pre-warm action matches for `model`
    (its name or servedName). The gateway moves a window's end to `event + window`, never earlier,
    so overlapping windows of one rule simply overlap here; the floor is the largest open one."""
    out = []
    for t, event in events:
        for p in prewarms:
            if any(m in p.models for m in model) and p.pattern.matches(event):
                out.append((t, t + p.window, p.replicas))
    return tuple(out)
