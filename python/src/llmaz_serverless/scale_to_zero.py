"""How many replicas a model wants now: the one scale-to-zero rule of the local stand-ins.

Two local stand-ins for KEDA with the HTTP add-on run in real time and decide through
this rule:
- the emulator (emulator/engine.py), one process that is one replica: it drops to zero
  after its idle period and loads again (its cold-start delay) when a request wakes it;
- the load test's local scaler (loadtest/scaler.py), 0..N emulator processes behind one
  proxy; each replica is an emulator process, so the cold-start delay is the emulator's.

The rule, evaluated at every poll (the caller's polling interval):
- concurrency is the most requests in flight since the last poll (held ones included),
  so a burst between two polls still counts;
- with traffic: ceil(concurrency / target_concurrency), clamped to [1, max_replicas];
  more than now is applied at once (the add-on's push to KEDA, the HPA's quick scale-up);
- quiet: one replica stays until nothing arrived or ran for `scale_to_zero_after`
  (KEDA's cooldownPeriod), then zero;
- fewer (but not zero) is applied one replica at a time, each step only after lower
  demand lasted `scale_down_after` (the HPA's scale-down stabilization window).
Waking from zero on a request is the caller's: it must not wait for the next poll.

Not the planner: plan/simulate.py predicts what the real controllers do over a recorded
trace (the HPA's tolerance, windows and policies, the add-on's push interval, KEDA's
polling), event by event and far faster than real time. It reproduces the upstream
controllers so its numbers can be compared with a cluster; this rule is the simpler one
that makes local runs show 0 -> 1 -> N -> 0, and neither can stand in for the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class ScaleToZeroRule:
    """Replicas wanted from requests in flight and the time since the last one (times in seconds)."""

    max_replicas: int = 1
    # Requests in flight per replica before another one is wanted (the add-on's targetValue).
    target_concurrency: float = 1.0
    # Quiet time before zero (KEDA's cooldownPeriod).
    scale_to_zero_after: float = 300.0
    # Lower demand must last this long before each one-replica step down.
    scale_down_after: float = 0.0
    # When a request last arrived or ended (or a replica finished loading).
    last_activity: float = 0.0
    _peak: int = 0
    _lower_since: float | None = None

    def __post_init__(self) -> None:
        if self.max_replicas < 1:
            raise ValueError(f"max_replicas: {self.max_replicas} is below 1; set at least 1")
        if self.target_concurrency <= 0:
            raise ValueError(f"target_concurrency: {self.target_concurrency} must be above 0, e.g. 1")

    def activity(self, now: float, in_flight: int = 0) -> None:
        """A request arrived or ended (or a load finished): the quiet period restarts from `now`."""
        self.last_activity = now
        self._peak = max(self._peak, in_flight)

    def idle_for(self, now: float) -> float:
        return now - self.last_activity

    def decide(self, now: float, current: int, in_flight: int) -> int:
        """Replicas to have from `now` on, with `current` replicas and `in_flight` requests."""
        concurrency = max(self._peak, in_flight)
        self._peak = in_flight
        if concurrency == 0:
            want = 0 if self.idle_for(now) >= self.scale_to_zero_after else min(current, 1)
        else:
            want = min(self.max_replicas, max(1, math.ceil(concurrency / self.target_concurrency)))
        if want >= current or want == 0:
            self._lower_since = None
            return want
        if self._lower_since is None:
            self._lower_since = now
            return current
        if now - self._lower_since >= self.scale_down_after:
            self._lower_since = now
            return current - 1
        return current
