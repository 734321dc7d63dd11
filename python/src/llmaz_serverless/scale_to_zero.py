"""How many replicas a model wants now: the one scale-to-zero rule of the local stand-ins.

Three users decide through this rule:
- the emulator (emulator/engine.py), one process that is one replica, in real time: it
  drops to zero after its idle period and loads again (its cold-start delay) when a
  request wakes it;
- the load test's local scaler (loadtest/scaler.py), 0..N emulator processes behind one
  proxy, in real time; each replica is an emulator process, so the cold-start delay is
  the emulator's;
- the planner's model of that scaler (plan/local.py), over a recorded trace in simulated
  time, to check the planner against a local replay.

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

Not the cluster model: plan/simulate.py predicts what the real controllers do over a
trace (the HPA's tolerance, windows and policies, the add-on's push interval, KEDA's
polling). It reproduces the upstream controllers so its numbers can be compared with a
cluster; this rule is the simpler one that makes local runs show 0 -> 1 -> N -> 0, and
neither can stand in for the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ScaleToZeroSettings:
    """What the rule is told (times in seconds); the defaults are the local stack's."""

    max_replicas: int = 3
    # Requests in flight per replica before another one is wanted (the add-on's targetValue;
    # small because an emulated replica is cheap: 2 lets six users reach 3 replicas).
    target_concurrency: float = 2.0
    # Quiet time before zero (KEDA's cooldownPeriod).
    scale_to_zero_after: float = 8.0
    # Lower demand must last this long before each one-replica step down.
    scale_down_after: float = 5.0
    # How often the rule is evaluated (KEDA's pollingInterval).
    polling_interval: float = 0.5
    # Longest a request is held waiting for a replica before a 504 (the interceptor's hold).
    hold_timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.max_replicas < 1:
            raise ValueError(f"max_replicas: {self.max_replicas} is below 1; set at least 1")
        if self.target_concurrency <= 0:
            raise ValueError(f"target_concurrency: {self.target_concurrency} must be above 0, e.g. 1")
        if self.polling_interval <= 0:
            raise ValueError(f"polling_interval: {self.polling_interval} must be above 0, e.g. 0.5")


class ScaleToZeroRule:
    """Replicas wanted from requests in flight and the time since the last one."""

    def __init__(self, settings: ScaleToZeroSettings, last_activity: float = 0.0) -> None:
        self.settings = settings
        # When a request last arrived or ended (or a replica finished loading).
        self.last_activity = last_activity
        self._peak = 0
        self._lower_since: float | None = None

    def activity(self, now: float, in_flight: int = 0) -> None:
        """A request arrived or ended (or a load finished): the quiet period restarts from `now`.

        Never moves back: a simulation may report a request's end after a later arrival.
        """
        self.last_activity = max(self.last_activity, now)
        self._peak = max(self._peak, in_flight)

    def decide(self, now: float, current: int, in_flight: int) -> int:
        """Replicas to have from `now` on, with `current` replicas and `in_flight` requests."""
        s = self.settings
        concurrency = max(self._peak, in_flight)
        self._peak = in_flight
        if concurrency == 0:
            want = 0 if now - self.last_activity >= s.scale_to_zero_after else min(current, 1)
        else:
            want = min(s.max_replicas, max(1, math.ceil(concurrency / s.target_concurrency)))
        if want >= current or want == 0:
            self._lower_since = None
            return want
        if self._lower_since is None:
            self._lower_since = now
            return current
        if now - self._lower_since >= s.scale_down_after:
            self._lower_since = now
            return current - 1
        return current
