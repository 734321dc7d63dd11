"""The local stack's scaler (loadtest/scaler.py), simulated over a trace.

Used only to check the planner against measured local replays (`plan --against RUN_DIR`): the
request, cold-start and billing model is the one `simulate.py` uses for the cluster, the controller
is the local scaler's: the same rule object decides (scale_to_zero.py, evaluated every
`polling_interval` of simulated time). What the scaler does around the rule is simulated here:

- a request at zero starts one replica at once (the scaler's wake());
- a request goes to the ready replica with the fewest in flight; a replica chosen for removal
  (fewest in flight, newest first) keeps running, and is billed, until its requests end.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from llmaz_serverless.plan.settings import Service
from llmaz_serverless.plan.simulate import Outcome
from llmaz_serverless.scale_to_zero import ScaleToZeroRule, ScaleToZeroSettings
from llmaz_serverless.trace.model import Arrival


@dataclass
class _Replica:
    created: float
    ready_at: float
    ends: list[float] = field(default_factory=list)  # heap of its requests' end times
    removed: float | None = None  # when it was chosen for removal
    served: int = 0

    def in_flight(self, now: float) -> int:
        while self.ends and self.ends[0] <= now:
            heapq.heappop(self.ends)
        return len(self.ends)

    def gone_at(self) -> float:
        assert self.removed is not None
        return max([self.removed, *self.ends])


class _LocalPool:
    def __init__(self, timeline: bool) -> None:
        self.active: list[_Replica] = []
        self.retired: list[_Replica] = []
        self.peak = 0
        self.ups_from_zero = 0
        self.timeline: list[tuple[float, int]] | None = [(0.0, 0)] if timeline else None

    def count(self, now: float) -> int:
        """Replicas that exist at `now`, draining ones included (what the scaler's state reports)."""
        draining = sum(1 for r in self.retired if r.gone_at() > now)
        return len(self.active) + draining

    def _note(self, now: float) -> None:
        n = self.count(now)
        self.peak = max(self.peak, n)
        if self.timeline is not None:
            self.timeline.append((now, n))

    def scale(self, now: float, desired: int, cold_start: float) -> None:
        current = len(self.active)
        if desired > current:
            if current == 0:
                self.ups_from_zero += 1
            self.active += [_Replica(now, now + cold_start) for _ in range(desired - current)]
        elif desired < current:
            order = sorted(range(current), key=lambda k: (self.active[k].in_flight(now), -k))
            victims = set(order[: current - desired])
            for k in sorted(victims):
                self.active[k].removed = now
                self.retired.append(self.active[k])
            self.active = [r for k, r in enumerate(self.active) if k not in victims]
        else:
            return
        self._note(now)

    def assign(self, now: float, service: float, svc: Service, hold: float) -> tuple[float, bool, float]:
        """Send a request arriving at `now` to a replica: (added wait, timed out, when it ends)."""
        ready = [r for r in self.active if r.ready_at <= now]
        if ready:
            replica, start = min(ready, key=lambda r: r.in_flight(now)), now
        else:
            replica = min(self.active, key=lambda r: r.ready_at)
            start = replica.ready_at
            if start - now > hold:
                return hold, True, now + hold
        replica.served += 1
        service *= svc.timing.slowdown(replica.served)
        heapq.heappush(replica.ends, start + service)
        return start - now, False, start + service

    def billed(self, end: float) -> float:
        alive = sum(end - r.created for r in self.active)
        return alive + sum(min(end, r.gone_at()) - r.created for r in self.retired)


def simulate_local(
    arrivals: list[Arrival],
    s: ScaleToZeroSettings,
    svc: Service,
    end: float | None = None,
    timeline: bool = False,
) -> Outcome:
    times = [a.t for a in arrivals]
    end = max(end if end is not None else 0.0, (times[-1] if times else 0.0) + 1.0)
    pool = _LocalPool(timeline)
    ends: list[float] = []  # every request's end, for the concurrency the scaler counts
    waits = np.zeros(len(arrivals))
    cold = timeouts = 0
    rule = ScaleToZeroRule(s)
    poll_next = s.polling_interval
    i, n = 0, len(arrivals)

    def in_flight(now: float) -> int:
        while ends and ends[0] <= now:
            rule.activity(heapq.heappop(ends))  # a request's end restarts the quiet period
        return len(ends)

    while i < n or poll_next <= end:
        now = min(times[i] if i < n else math.inf, poll_next)
        if now > end:
            break
        if now == poll_next:
            poll_next += s.polling_interval
            current = len(pool.active)
            pool.scale(now, rule.decide(now, current, in_flight(now)), svc.cold_start)
            continue
        arrival = arrivals[i]
        rule.activity(now, in_flight(now) + 1)
        if not pool.active:
            pool.scale(now, 1, svc.cold_start)
        service = svc.seconds(arrival.prompt_tokens, arrival.output_tokens)
        wait, timed_out, ended = pool.assign(now, service, svc, s.hold_timeout)
        cold += wait > 0
        timeouts += timed_out
        waits[i] = wait
        heapq.heappush(ends, ended)
        i += 1
    return Outcome(
        n, pool.billed(end), cold, waits, timeouts, pool.peak, pool.ups_from_zero, end, pool.timeline or []
    )
