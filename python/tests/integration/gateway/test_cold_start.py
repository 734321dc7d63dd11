"""A model at zero: the gateway holds, retries a loading server, fails over, or answers 503 + Retry-After."""

import time

import aiohttp
import pytest
from aiohttp import web

pytestmark = pytest.mark.integration


def model(name, upstream, **extra):
    return {"name": name, "playground": name, "upstream": upstream, **extra}


BODY = {"prompt": "p", "max_tokens": 2}


async def test_503_with_retry_after_when_hold_outlasts_cold_start_budget(emulator, gateway):
    sim = emulator(model="m", startup_delay=60, hold_while_loading=True)
    gw = gateway(
        [model("m", sim.url, timeouts={"coldStart": "500ms", "responseHeader": "200ms"}, retryAfter=45)]
    )
    async with aiohttp.ClientSession() as http:
        start = time.monotonic()
        async with http.post(f"{gw.url}/v1/completions", json={"model": "m", **BODY}) as resp:
            elapsed = time.monotonic() - start
            assert resp.status == 503
            assert resp.headers["Retry-After"] == "45"
            err = (await resp.json())["error"]
        async with http.get(f"{gw.url}/metrics") as resp:
            metrics = await resp.text()
    assert 0.6 <= elapsed < 3
    assert err["code"] == "model_unavailable"
    assert err["type"] == "server_error"
    assert "Retry after 45s" in err["message"]
    assert 'llmaz_serverless_gateway_cold_start_timeouts_total{model="m"} 1.0' in metrics


async def test_waits_through_a_loading_server_answering_503(emulator, gateway):
    # The model server is up but loading weights (503s); the gateway retries within the budget.
    sim = emulator(model="m", startup_delay=0.8, ttft=0, itl=0)
    gw = gateway([model("m", sim.url, timeouts={"coldStart": "10s", "responseHeader": "5s"})])
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/v1/completions", json={"model": "m", **BODY}) as resp,
    ):
        assert resp.status == 200
        assert resp.headers["X-Cache"] == "BYPASS"
    assert sim.state()["rejectedLoadingTotal"] >= 1
    assert sim.state()["completedTotal"] == 1


async def test_held_request_served_when_model_wakes_in_time(emulator, gateway):
    sim = emulator(model="m", start_at_zero=True, startup_delay=0.5, hold_while_loading=True)
    gw = gateway([model("m", sim.url, timeouts={"coldStart": "10s"})])
    async with aiohttp.ClientSession() as http:
        start = time.monotonic()
        async with http.post(f"{gw.url}/v1/completions", json={"model": "m", **BODY}) as resp:
            assert resp.status == 200
        assert time.monotonic() - start >= 0.45
    assert sim.state()["coldStartsTotal"] == 1


async def test_fails_over_to_warm_model_when_cold_budget_expires(emulator, gateway):
    cold = emulator(model="big", startup_delay=60, hold_while_loading=True)
    warm = emulator(model="small")
    gw = gateway([
        model("big", cold.url, timeouts={"coldStart": "300ms", "responseHeader": "200ms"}, failover="small"),
        model("small", warm.url),
    ])  # fmt: skip
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw.url}/v1/completions", json={"model": "big", **BODY}) as resp:
            assert resp.status == 200
            assert resp.headers["X-Gateway-Failover-From"] == "big"
            data = await resp.json()
        async with http.get(f"{gw.url}/metrics") as resp:
            metrics = await resp.text()
    assert data["model"] == "small"
    assert warm.state()["completedTotal"] == 1
    assert 'llmaz_serverless_gateway_failovers_total{failover="small",model="big"} 1.0' in metrics


async def test_503_when_failover_also_unavailable(emulator, gateway):
    cold = emulator(model="big", startup_delay=60, hold_while_loading=True)
    gw = gateway([
        model("big", cold.url, timeouts={"coldStart": "200ms", "responseHeader": "100ms"}, failover="small"),
        model("small", "http://127.0.0.1:9", timeouts={"coldStart": "200ms", "responseHeader": "100ms"}),
    ])  # fmt: skip
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/v1/completions", json={"model": "big", **BODY}) as resp,
    ):
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "30"
        message = (await resp.json())["error"]["message"]
    assert "failover small" in message


@pytest.fixture
def interceptor_504(stub_upstream):
    """A stand-in for the interceptor when its own hold (readiness timeout) ran out: 504."""
    state = {"calls": 0}

    async def handle(request: web.Request) -> web.Response:
        state["calls"] += 1
        return web.Response(status=504, text="context deadline exceeded")

    return stub_upstream(handle).url, state


async def test_interceptor_504_means_cold_start_expired_at_once(interceptor_504, emulator, gateway):
    url, state = interceptor_504
    warm = emulator(model="small")
    gw = gateway([model("big", url, failover="small"), model("small", warm.url)])
    async with aiohttp.ClientSession() as http:
        start = time.monotonic()
        async with http.post(f"{gw.url}/v1/completions", json={"model": "big", **BODY}) as resp:
            assert resp.status == 200
            assert resp.headers["X-Gateway-Failover-From"] == "big"
        # No waiting out the (default, 15-minute) budget after the interceptor gave up.
        assert time.monotonic() - start < 2
    assert state["calls"] == 1
