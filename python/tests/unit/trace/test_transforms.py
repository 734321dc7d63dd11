"""Window, thin, speed-up and idle gaps, in that order, and how they are named."""

from __future__ import annotations

import pytest

from llmaz_serverless.trace.model import Arrival, Trace
from llmaz_serverless.trace.transforms import Transforms, apply, parse_gaps, parse_window


def _trace(times: list[float]) -> Trace:
    return Trace("t.csv", [Arrival(t, 10, 5) for t in times], start_epoch=1_800_000_000.0)


def test_window_keeps_the_range_and_restarts_the_clock() -> None:
    out = apply(_trace([0, 5, 10, 15, 20]), Transforms(window=(5, 15)))
    assert [a.t for a in out.arrivals] == [0, 5]
    assert out.start_epoch == 1_800_000_005.0
    assert out.transforms == ["window 5s..15s"]


def test_thin_is_seeded_and_keeps_about_the_fraction() -> None:
    trace = _trace([float(i) for i in range(10_000)])
    a = apply(trace, Transforms(thin=0.1, seed=7))
    b = apply(trace, Transforms(thin=0.1, seed=7))
    assert [x.t for x in a.arrivals] == [x.t for x in b.arrivals]
    assert 900 < len(a.arrivals) < 1100


def test_speedup_divides_times_and_drops_wall_clock() -> None:
    out = apply(_trace([0, 10, 20]), Transforms(speedup=4))
    assert [a.t for a in out.arrivals] == [0, 2.5, 5]
    assert out.start_epoch is None


def test_gaps_shift_each_later_block() -> None:
    out = apply(_trace([0, 59, 60, 130]), Transforms(gap_every=60, gap_length=30))
    assert [a.t for a in out.arrivals] == [0, 59, 90, 190]
    assert out.transforms == ["30s idle gap after every 60s"]


def test_parsers_and_errors() -> None:
    assert parse_window("1m..10m") == (60, 600)
    assert parse_gaps("60s:5m") == (60, 300)
    with pytest.raises(ValueError, match="END must be after START"):
        parse_window("10m..1m")
    with pytest.raises(ValueError, match="expected EVERY:LENGTH"):
        parse_gaps("60s")
    with pytest.raises(ValueError, match="--thin 0"):
        apply(_trace([0, 1]), Transforms(thin=0))
    with pytest.raises(ValueError, match="no request left"):
        apply(_trace([0, 1]), Transforms(window=(5, 6)))


def test_events_follow_window_speedup_and_gaps_but_are_never_thinned() -> None:
    trace = _trace([float(i) for i in range(100)])
    trace.events = [(10.0, {"type": "a"}), (70.0, {"type": "b"}), (500.0, {"type": "c"})]
    out = apply(trace, Transforms(window=(0, 100), thin=0.5, seed=3, gap_every=60, gap_length=30))
    origin = out.arrivals[0].t  # the first kept request is t = 0; events move with it
    assert [e["type"] for _, e in out.events] == ["a", "b"]
    assert out.events[1][0] - out.events[0][0] == 60.0 + 30.0  # b is after the 60 s mark: shifted
    assert origin == 0.0
