"""Transforms of a trace, so one recorded hour can drive a short local run or exercise scale to zero.

Applied in this order, whatever order the flags came in (each one's meaning is then fixed):
window (cut a time range of the original), thin (keep a fraction, seeded), speed-up (divide the
times), gaps (insert idle periods, so a busy trace also reaches zero). Each step appends its text
to `Trace.transforms`, which reports print.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from llmaz_serverless.config import duration_or_none
from llmaz_serverless.trace.model import Arrival, Trace


@dataclass(frozen=True)
class Transforms:
    # [start, end) seconds of the original trace to keep; None: the whole trace.
    window: tuple[float, float] | None = None
    # Keep this fraction of the requests (0 < thin <= 1), chosen with `seed`.
    thin: float = 1.0
    seed: int = 1
    # Divide every time by this (2: twice as fast).
    speedup: float = 1.0
    # Insert `gap_length` seconds of silence after every `gap_every` seconds of (sped-up) trace.
    gap_every: float | None = None
    gap_length: float = 0.0

    @property
    def empty(self) -> bool:
        return self == Transforms(seed=self.seed)


def _seconds(text: str, flag: str) -> float:
    value = duration_or_none(text.strip())
    if value is None or value < 0:
        raise ValueError(
            f"{flag} {text!r}: not a duration; fix: write seconds (90) or a Go duration (90s, 5m)"
        )
    return value


def parse_window(text: str) -> tuple[float, float]:
    """`START..END` (durations from the trace's start) -> (start, end) seconds."""
    start, sep, end = text.partition("..")
    if not sep:
        raise ValueError(f"--window {text!r}: expected START..END, e.g. 0s..10m")
    lo, hi = _seconds(start, "--window"), _seconds(end, "--window")
    if hi <= lo:
        raise ValueError(f"--window {text!r}: END must be after START")
    return lo, hi


def parse_gaps(text: str) -> tuple[float, float]:
    """`EVERY:LENGTH` -> (every, length) seconds: LENGTH of silence after every EVERY of trace."""
    every, sep, length = text.partition(":")
    if not sep:
        raise ValueError(f"--gaps {text!r}: expected EVERY:LENGTH, e.g. 60s:30s")
    e, n = _seconds(every, "--gaps"), _seconds(length, "--gaps")
    if e <= 0 or n <= 0:
        raise ValueError(f"--gaps {text!r}: EVERY and LENGTH must be above 0")
    return e, n


def apply(trace: Trace, t: Transforms) -> Trace:
    """A new trace with `t` applied; t = 0 stays at the first kept request."""
    if not 0 < t.thin <= 1:
        raise ValueError(f"--thin {t.thin}: expected a fraction above 0 and at most 1, e.g. 0.05")
    if t.speedup <= 0:
        raise ValueError(f"--speedup {t.speedup}: expected a factor above 0, e.g. 2")
    arrivals = trace.arrivals
    events = trace.events
    steps = list(trace.transforms)
    start_epoch = trace.start_epoch
    if t.window is not None:
        lo, hi = t.window
        arrivals = [a for a in arrivals if lo <= a.t < hi]
        events = [(at, e) for at, e in events if lo <= at < hi]
        steps.append(f"window {lo:g}s..{hi:g}s")
    if t.thin < 1:  # requests only: an event stands for a user action, not for load
        rng = random.Random(t.seed)
        arrivals = [a for a in arrivals if rng.random() < t.thin]
        steps.append(f"thinned to {t.thin:g} (seed {t.seed})")
    if not arrivals:
        raise ValueError(
            f"{trace.name}: no request left after {', '.join(steps)}; fix: widen the window or thin less"
        )
    origin = arrivals[0].t
    if start_epoch is not None:
        start_epoch += origin
    arrivals = [replace(a, t=(a.t - origin) / t.speedup) for a in arrivals]
    events = [((at - origin) / t.speedup, e) for at, e in events]
    if t.speedup != 1:
        steps.append(f"sped up x{t.speedup:g}")
        start_epoch = None  # sped-up times are no longer wall-clock times
    if t.gap_every is not None:
        arrivals = [replace(a, t=a.t + int(a.t // t.gap_every) * t.gap_length) for a in arrivals]
        events = [(at + max(0, int(at // t.gap_every)) * t.gap_length, e) for at, e in events]
        steps.append(f"{t.gap_length:g}s idle gap after every {t.gap_every:g}s")
    return Trace(trace.name, arrivals, start_epoch, steps, trace.attribution, events)


def rate(arrivals: list[Arrival]) -> float:
    """Requests per second over the arrivals' span (0 for fewer than two)."""
    if len(arrivals) < 2 or arrivals[-1].t <= arrivals[0].t:
        return 0.0
    return (len(arrivals) - 1) / (arrivals[-1].t - arrivals[0].t)
