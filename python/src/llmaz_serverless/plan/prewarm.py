"""Pre-warm window candidates found in the trace itself, for the grid when none are given.

A trace with wall-clock times (see trace/formats.py) says which hours of the day carry traffic.
The candidates are daily cron windows in UTC, on whole hours: each run of consecutive hours with
requests, and each of the busiest single hours, at most `limit` in all, busiest first. A window
keeps one replica up while it is open, so it only pays off where traffic is dense but has gaps
longer than the cooldown; the grid finds out which.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from llmaz_serverless.plan.settings import CronWindow
from llmaz_serverless.trace.model import Arrival


def _window(first: int, last: int) -> CronWindow:
    """Daily, from `first`:00 to (`last` + 1):00 UTC."""
    return CronWindow(
        f"prewarm-{first:02d}-{(last + 1) % 24:02d}", f"0 {first} * * *", f"0 {(last + 1) % 24} * * *"
    )


def candidates(arrivals: list[Arrival], start_epoch: float | None, limit: int = 4) -> tuple[CronWindow, ...]:
    if start_epoch is None or not arrivals:
        return ()
    hours = Counter(dt.datetime.fromtimestamp(start_epoch + a.t, dt.UTC).hour for a in arrivals)
    busy = sorted(hours)
    runs: list[tuple[int, int]] = []
    for h in busy:
        if runs and h == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], h)
        else:
            runs.append((h, h))
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == 23:  # a run across midnight
        runs[0] = (runs[-1][0], runs[0][1])
        runs.pop()
    if len(runs) == 1 and runs[0] == (0, 23):
        runs = []  # traffic every hour of the day: an all-day window is a floor of one replica

    def weight(run: tuple[int, int]) -> int:
        first, last = run
        span = range(first, last + 1) if first <= last else [*range(first, 24), *range(0, last + 1)]
        return sum(hours[h] for h in span)

    out: list[CronWindow] = []
    for run in sorted(runs, key=weight, reverse=True):
        out.append(_window(*run))
    for hour, _count in hours.most_common():
        if (hour, hour) not in runs:
            out.append(_window(hour, hour))
    return tuple(out[:limit])
