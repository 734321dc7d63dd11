"""Cron pre-warm windows as intervals of trace time, in the window's time zone."""

from __future__ import annotations

import pytest

from llmaz_serverless.plan.cron import active_intervals, parse
from llmaz_serverless.plan.settings import CronWindow

START = 1_796_551_200.0  # 2026-12-06T10:00:00Z, a Sunday


def test_window_active_from_start_to_end() -> None:
    w = CronWindow("w", "30 10 * * *", "0 11 * * *")
    assert active_intervals((w,), START, 3 * 3600) == ((1800.0, 3600.0, w),)


def test_window_already_open_when_the_trace_starts_and_time_zone() -> None:
    # 09:00-12:00 in Berlin (UTC+1 in December) is 08:00-11:00 UTC: open at 10:00 UTC, ends at 11:00 UTC.
    w = CronWindow("w", "0 9 * * *", "0 12 * * *", "Europe/Berlin")
    (interval,) = [i for i in active_intervals((w,), START, 3600) if i[1] > 0]
    assert interval[0] < 0 and interval[1] == 3600.0


def test_weekday_fields_and_errors() -> None:
    assert parse("0 8 * * 1-5")[4] == {1, 2, 3, 4, 5}
    assert parse("*/15 * * * 7")[0] == {0, 15, 30, 45} and parse("0 0 * * 7")[4] == {0}
    with pytest.raises(ValueError, match="expected 5 fields"):
        parse("0 8 * *")
    with pytest.raises(ValueError, match="hour '25' is outside 0-23"):
        parse("0 25 * * *")
    with pytest.raises(ValueError, match="need wall-clock times"):
        active_intervals((CronWindow("w", "0 8 * * *", "0 9 * * *"),), None, 10.0)
