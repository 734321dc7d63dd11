import asyncio

import pytest

from llmaz_serverless.emulator.engine import Engine, Phase
from llmaz_serverless.emulator.settings import EmulatorSettings


async def test_fails_exactly_first_n_requests_when_fail_first_set():
    engine = Engine(EmulatorSettings(fail_first=2, fail_status=502))
    engine.start()
    assert [engine.draw_failure() for _ in range(4)] == [502, 502, None, None]
    assert engine.totals.failed == 2
    await engine.close()


async def test_fails_about_the_fraction_when_fail_rate_set():
    engine = Engine(EmulatorSettings(fail_rate=0.25, seed=3))
    engine.start()
    failures = sum(engine.draw_failure() is not None for _ in range(2000))
    assert 400 < failures < 600
    await engine.close()


async def test_slower_only_for_cold_requests_after_load():
    engine = Engine(EmulatorSettings(cold_requests=2, cold_factor=4.0, fail_first=1))
    engine.start()
    factors = []
    for _ in range(4):
        engine.draw_failure()
        factors.append(engine.slowdown())
    assert factors == [4.0, 4.0, 4.0, 1.0]
    await engine.close()


async def test_loading_until_startup_delay_passed():
    engine = Engine(EmulatorSettings(startup_delay=0.2))
    engine.start()
    assert engine.phase is Phase.LOADING
    assert not engine.ready
    await asyncio.wait_for(engine.wait_loaded(), timeout=2)
    assert engine.ready
    await engine.close()


async def test_scales_to_zero_when_idle_and_wakes_with_cold_start():
    engine = Engine(EmulatorSettings(scale_to_zero_after=0.2, startup_delay=0.1))
    engine.start()
    await asyncio.wait_for(engine.wait_loaded(), timeout=2)
    for _ in range(40):
        if engine.phase is Phase.ZERO:
            break
        await asyncio.sleep(0.05)
    assert engine.phase is Phase.ZERO
    assert engine.snapshot()["replicas"] == 0
    engine.wake()
    assert engine.phase is Phase.LOADING
    assert engine.totals.cold_starts == 1
    await asyncio.wait_for(engine.wait_loaded(), timeout=2)
    assert engine.snapshot()["readyReplicas"] == 1
    await engine.close()


async def test_extra_requests_wait_when_concurrency_full():
    engine = Engine(EmulatorSettings(max_concurrency=1))
    engine.start()
    release = asyncio.Event()

    async def hold() -> None:
        async with engine.slot(10):
            await release.wait()

    first = asyncio.create_task(hold())
    second = asyncio.create_task(hold())
    await asyncio.sleep(0.05)
    assert (engine.running, engine.waiting) == (1, 1)
    assert engine.snapshot()["kvCacheUsage"] == pytest.approx(10 / 65536)
    release.set()
    await asyncio.gather(first, second)
    assert (engine.running, engine.waiting) == (0, 0)
    await engine.close()


async def test_state_names_every_total_as_the_sampler_and_tests_read_it():
    # /emulator/state's keys are read by the load-test sampler and the integration tests by name.
    engine = Engine(EmulatorSettings(fail_first=1))
    engine.start()
    engine.draw_failure()
    state = engine.snapshot()
    totals = {key: value for key, value in state.items() if key.endswith("Total")}
    assert totals == {
        "requestsTotal": 0, "completedTotal": 0, "failedTotal": 1, "cancelledTotal": 0,
        "rejectedLoadingTotal": 0, "loadsTotal": 1, "coldStartsTotal": 0,
    }  # fmt: skip
    await engine.close()
