import io

import pytest

from llmaz_serverless_testing.e2e.wait import WaitTimeoutError, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_returns_the_first_truthy_value_and_reports_progress():
    clock, seen, out = FakeClock(), iter([0, None, 3]), io.StringIO()
    value = wait_until(
        lambda: next(seen),
        what="replicas",
        timeout=60,
        interval=5,
        progress=out,
        clock=clock,
        sleep=clock.sleep,
    )
    assert value == 3
    assert clock.now == 10
    assert "waiting for replicas (5s / 60s)" in out.getvalue()


def test_timeout_names_what_and_the_last_error_seen():
    clock = FakeClock()

    def probe():
        raise ConnectionError("connection refused")

    with pytest.raises(WaitTimeoutError, match=r"120s waiting for the gateway.*connection refused"):
        wait_until(
            probe, what="the gateway", timeout=120, interval=7, progress=None, clock=clock, sleep=clock.sleep
        )
    assert clock.now == 120
