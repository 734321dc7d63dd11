"""Polling with a deadline and a progress line, for steps that take minutes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

T = TypeVar("T")


class WaitTimeoutError(AssertionError):
    """The condition did not hold in time; the message says what was last seen."""


def wait_until(
    probe: Callable[[], T | None],
    *,
    what: str,
    timeout: float,
    interval: float = 2.0,
    progress: TextIO | None = sys.stderr,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `probe` until it returns something truthy and return it.

    `probe` may return a falsy value or raise; the last value or error is named
    in the timeout message so a failing e2e run says where it got stuck.
    """
    start = clock()
    last: object = None
    while True:
        try:
            value = probe()
        except Exception as err:  # a probe may fail while things start
            value, last = None, err
        else:
            last = value
        if value:
            return value
        elapsed = clock() - start
        if elapsed >= timeout:
            raise WaitTimeoutError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {last!r}")
        if progress is not None:
            progress.write(f"  waiting for {what} ({elapsed:.0f}s / {timeout:.0f}s)\n")
        sleep(min(interval, max(timeout - elapsed, 0.0)))
