"""Traffic shapes: how many simulated users are active at each second of a run.

A shape is a list of phases, each with a duration and a user count that may
vary inside the phase. Pure functions of time, so the same schedule drives
locust (through `users.ScheduleShape`), the tests and the report's annotations.

The shapes that matter for serverless models:

- steady: constant load, the warm baseline.
- step: load rising in steps, to watch 1 -> N scale-up and its lag.
- burst_after_idle: nothing, then everyone at once. The idle gap must be longer
  than the scaler's idle/cooldown period, so every burst meets zero replicas
  (0 -> 1) and pays the cold start.
- diurnal: a compressed day (sinusoid); with min_users 0 the "night" lets the
  model go back to zero.
- mix: the short `make loadtest` profile: idle, burst, step up, ramp down,
  idle long enough to reach zero, a second burst.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# How fast locust adds or removes users when the count changes. High: a burst
# arrives at once, which is what forces the cold start.
BURST_SPAWN_RATE = 100.0


@dataclass(frozen=True)
class Phase:
    name: str
    duration: float
    users: Callable[[float], int]  # local time in the phase -> users
    spawn_rate: float = BURST_SPAWN_RATE


@dataclass
class Schedule:
    kind: str
    phases: list[Phase]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(p.duration for p in self.phases)

    def phase_at(self, t: float) -> tuple[Phase, float] | None:
        """The phase active at `t` seconds and the time inside it; None once the schedule is over."""
        if t < 0:
            t = 0.0
        start = 0.0
        for phase in self.phases:
            if t < start + phase.duration:
                return phase, t - start
            start += phase.duration
        return None

    def at(self, t: float) -> tuple[int, float] | None:
        """(users, spawn rate) at `t`; None once the schedule is over (locust then stops)."""
        found = self.phase_at(t)
        if found is None:
            return None
        phase, local = found
        return max(0, int(phase.users(local))), phase.spawn_rate

    def boundaries(self) -> list[tuple[float, str]]:
        """(start time, phase name) of every phase, for annotating plots."""
        out, start = [], 0.0
        for phase in self.phases:
            out.append((start, phase.name))
            start += phase.duration
        return out


def _const(n: int) -> Callable[[float], int]:
    return lambda _t: n


def steady(users: int = 4, duration: float = 60.0, ramp: float = 0.0) -> Schedule:
    phases = []
    if ramp > 0:
        phases.append(Phase("ramp", ramp, _const(users), spawn_rate=max(users / ramp, 0.1)))
    phases.append(Phase("steady", duration - ramp, _const(users)))
    return Schedule("steady", phases, {"users": users, "duration": duration, "ramp": ramp})


def step(start_users: int = 1, step_users: int = 2, steps: int = 4, step_duration: float = 15.0) -> Schedule:
    phases = [
        Phase(f"step {i + 1}", step_duration, _const(start_users + i * step_users)) for i in range(steps)
    ]
    params = {
        "start_users": start_users,
        "step_users": step_users,
        "steps": steps,
        "step_duration": step_duration,
    }
    return Schedule("step", phases, params)


def burst_after_idle(
    idle: float = 20.0,
    burst_users: int = 8,
    burst_duration: float = 10.0,
    repeats: int = 2,
    lead_in: float = 3.0,
) -> Schedule:
    """`lead_in` seconds at zero users first (to sample zero replicas), then repeats of burst + idle."""
    phases = [Phase("idle (lead-in)", lead_in, _const(0))] if lead_in > 0 else []
    for i in range(repeats):
        phases.append(Phase(f"burst {i + 1}", burst_duration, _const(burst_users)))
        phases.append(Phase(f"idle {i + 1}", idle, _const(0)))
    params = {
        "idle": idle,
        "burst_users": burst_users,
        "burst_duration": burst_duration,
        "repeats": repeats,
        "lead_in": lead_in,
    }
    return Schedule("burst_after_idle", phases, params)


def diurnal(min_users: int = 0, max_users: int = 8, period: float = 60.0, days: int = 2) -> Schedule:
    """A day compressed to `period` seconds: min at midnight (t=0), max at noon."""
    amplitude = max_users - min_users

    def users(t: float) -> int:
        return round(min_users + amplitude * (1 - math.cos(2 * math.pi * t / period)) / 2)

    phases = [Phase(f"day {d + 1}", period, users, spawn_rate=max(amplitude / 2.0, 1.0)) for d in range(days)]
    params = {"min_users": min_users, "max_users": max_users, "period": period, "days": days}
    return Schedule("diurnal", phases, params)


def mix(idle: float = 15.0, peak_users: int = 6, lead_in: float = 3.0, phase: float = 12.0) -> Schedule:
    """The short profile: every serverless transition once or twice in about 2 minutes by default."""
    half = max(1, peak_users // 2)
    phases = [
        Phase("idle (lead-in)", lead_in, _const(0)),
        Phase("burst after idle (0->1)", phase, _const(half)),
        Phase("step up", phase, _const(peak_users)),
        Phase("peak", phase, _const(peak_users)),
        Phase("ramp down", phase, lambda t: max(1, round(half * (1 - t / phase))), spawn_rate=2.0),
        Phase("idle (scale to zero)", idle, _const(0)),
        Phase("second burst (0->1)", phase, _const(half)),
        Phase("drain", 3.0, _const(0)),
    ]
    params = {"idle": idle, "peak_users": peak_users, "lead_in": lead_in, "phase": phase}
    return Schedule("mix", phases, params)


SHAPES: dict[str, Callable[..., Schedule]] = {
    "steady": steady,
    "step": step,
    "burst_after_idle": burst_after_idle,
    "diurnal": diurnal,
    "mix": mix,
}


def build(kind: str, params: dict[str, Any] | None = None) -> Schedule:
    """A schedule by name; unknown names and parameters are refused with the accepted ones listed."""
    if kind not in SHAPES:
        raise ValueError(f"shape {kind!r}: expected one of {', '.join(SHAPES)}")
    factory = SHAPES[kind]
    defaults = {name: p.default for name, p in inspect.signature(factory).parameters.items()}
    typed: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if key not in defaults:
            raise ValueError(f"shape {kind!r}: unknown parameter {key!r}; accepted: {', '.join(defaults)}")
        # Values may come from the command line as strings: cast to the default's type.
        cast = type(defaults[key])
        try:
            number = float(value)
            if cast is int and not number.is_integer():
                raise ValueError
            typed[key] = cast(number)
        except (TypeError, ValueError):
            raise ValueError(f"shape {kind!r}: {key}={value!r} is not a {cast.__name__}") from None
    return factory(**typed)
