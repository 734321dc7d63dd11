"""KEDA cron pre-warm windows as intervals of trace time.

KEDA's cron scaler is active from a `start` firing until the next `end` firing (both standard
5-field cron expressions in `timezone`). Here the firings are found minute by minute from a day
before the trace until its end; a window is active while the latest firing was a start.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from llmaz_serverless.plan.settings import CronWindow

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES = ("minute", "hour", "day of month", "month", "day of week")


def _field(text: str, lo: int, hi: int, name: str, expr: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            first, last = lo, hi
        elif "-" in body:
            a, b = body.split("-", 1)
            first, last = int(a), int(b)
        else:
            first = int(body)
            last = hi if step_text else first
        if not (lo <= first <= hi and lo <= last <= hi) or step < 1:
            raise ValueError(f"cron {expr!r}: {name} {part!r} is outside {lo}-{hi}")
        out.update(range(first, last + 1, step))
    return out


def parse(expr: str) -> tuple[set[int], ...]:
    """The five fields of a cron expression as sets of values (day of week 7 is Sunday, as 0)."""
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(f"cron {expr!r}: expected 5 fields (minute hour day month weekday)")
    try:
        fields = tuple(
            _field(p, lo, hi if n != 4 else 7, name, expr)
            for n, (p, (lo, hi), name) in enumerate(zip(parts, _RANGES, _NAMES, strict=True))
        )
    except ValueError as err:
        if str(err).startswith("cron"):
            raise
        raise ValueError(f"cron {expr!r}: not a number where one is expected") from None
    dow = fields[4]
    if 7 in dow:
        dow = (dow - {7}) | {0}
    return fields[0], fields[1], fields[2], fields[3], dow


def _fires(f: tuple[set[int], ...], t: dt.datetime, dom_star: bool, dow_star: bool) -> bool:
    if t.minute not in f[0] or t.hour not in f[1] or t.month not in f[3]:
        return False
    dom, dow = t.day in f[2], (t.isoweekday() % 7) in f[4]
    # Standard cron: when both day fields are restricted, either may match.
    if dom_star or dow_star:
        return dom and dow
    return dom or dow


@functools.lru_cache(maxsize=64)
def active_intervals(
    windows: tuple[CronWindow, ...], start_epoch: float | None, end: float
) -> tuple[tuple[float, float, CronWindow], ...]:
    """[(from, to, window)] in seconds of trace time while each window is active."""
    if start_epoch is None:
        raise ValueError(
            "cron pre-warm windows need wall-clock times and the trace has none (relative seconds or a "
            "speed-up); "
            "fix: use a trace with absolute timestamps and no --speedup, or drop the cron windows"
        )
    out: list[tuple[float, float, CronWindow]] = []
    for w in windows:
        zone = ZoneInfo(w.timezone)
        start_f, end_f = parse(w.start), parse(w.end)
        stars = [(e.split()[2] == "*", e.split()[4] == "*") for e in (w.start, w.end)]
        first = dt.datetime.fromtimestamp(start_epoch - 86_400, dt.UTC).replace(second=0, microsecond=0)
        minutes = int((end + 86_400) // 60) + 2
        active_from: float | None = None
        for m in range(minutes):
            moment = first + dt.timedelta(minutes=m)
            local = moment.astimezone(zone)
            rel = moment.timestamp() - start_epoch
            if active_from is None and _fires(start_f, local, *stars[0]):
                active_from = rel
            elif active_from is not None and _fires(end_f, local, *stars[1]):
                out.append((active_from, rel, w))
                active_from = None
        if active_from is not None:
            out.append((active_from, end + 60, w))
    # Windows that closed before the trace began do not matter.
    return tuple(i for i in out if i[1] > 0)
