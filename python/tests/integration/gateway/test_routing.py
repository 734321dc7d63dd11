"""Routing by the body's model and by path prefix, with the model's Host and route headers."""

import aiohttp
import pytest

pytestmark = pytest.mark.integration


def model(name, upstream, **extra):
    return {"name": name, "playground": name, "upstream": upstream, **extra}


async def test_routes_each_model_to_its_own_upstream(emulator, gateway):
    a, b = emulator(model="a"), emulator(model="b")
    gw = gateway([model("a", a.url), model("b", b.url)])
    async with aiohttp.ClientSession() as http:
        for name in ("a", "b", "b"):
            async with http.post(f"{gw.url}/v1/completions", json={"model": name, "prompt": "p"}) as resp:
                assert resp.status == 200
                assert (await resp.json())["model"] == name
    assert (a.state()["completedTotal"], b.state()["completedTotal"]) == (1, 2)


async def test_sends_host_route_headers_request_id_and_path_prefix_upstream(echo, gateway):
    route = {"host": "llama.route.local", "headers": {"X-Llmaz-Model": "llama"}, "pathPrefix": "/llama"}
    gw = gateway([model("llama", echo.url, **route)])
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gw.url}/v1/chat/completions",
            json={"model": "llama", "messages": []},
            headers={"X-Request-Id": "req-123", "User-Agent": "test-client"},
        ) as resp,
    ):
        assert resp.status == 200
        assert resp.headers["X-Request-Id"] == "req-123"
        seen = await resp.json()
    assert seen["path"] == "/llama/v1/chat/completions"
    assert seen["headers"]["host"] == "llama.route.local"
    assert seen["headers"]["x-llmaz-model"] == "llama"
    assert seen["headers"]["x-request-id"] == "req-123"
    assert seen["headers"]["user-agent"] == "test-client"
    assert seen["headers"]["accept-encoding"] == "identity"


async def test_generates_request_id_when_client_sends_none(echo, gateway):
    gw = gateway([model("m", echo.url)])
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/v1/embeddings", json={"model": "m", "input": "x"}) as resp,
    ):
        rid = resp.headers["X-Request-Id"]
        seen = await resp.json()
    assert len(rid) == 32
    assert seen["headers"]["x-request-id"] == rid
    assert seen["path"] == "/v1/embeddings"


async def test_path_prefix_selects_model_and_fills_missing_body_model(echo, gateway):
    gw = gateway([model("a", echo.url), model("b", echo.url, pathPrefix="/b")])
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw.url}/b/v1/completions", json={"prompt": "p"}) as resp:
            assert resp.status == 200
            seen = await resp.json()
        async with http.post(f"{gw.url}/b/v1/completions", json={"model": "a", "prompt": "p"}) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["code"] == "model_mismatch"
    assert seen["body"]["model"] == "b"
    assert seen["path"] == "/b/v1/completions"


async def test_unknown_model_is_openai_404_listing_known_models(gateway):
    gw = gateway([model("a", "http://127.0.0.1:9"), model("b", "http://127.0.0.1:9")])
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/v1/chat/completions", json={"model": "gpt-9", "messages": []}) as resp,
    ):
        assert resp.status == 404
        err = (await resp.json())["error"]
    assert err["code"] == "model_not_found"
    assert err["type"] == "invalid_request_error"
    assert err["param"] == "model"
    assert "gpt-9" in err["message"] and "a, b" in err["message"]


async def test_models_listed_from_config_without_touching_upstreams(gateway):
    # Upstreams that do not exist: listing must not wake (or need) any model.
    gw = gateway([model("a", "http://127.0.0.1:9"), model("b", "http://127.0.0.1:9")])
    async with aiohttp.ClientSession() as http, http.get(f"{gw.url}/v1/models") as resp:
        data = await resp.json()
    assert data["object"] == "list"
    assert [m["id"] for m in data["data"]] == ["a", "b"]
    assert all(m["object"] == "model" for m in data["data"])


async def test_metrics_count_requests_by_model_and_status(emulator, gateway):
    a = emulator(model="a")
    gw = gateway([model("a", a.url)])
    async with aiohttp.ClientSession() as http:
        for body in ({"model": "a", "prompt": "p"}, {"model": "zzz", "prompt": "p"}):
            async with http.post(f"{gw.url}/v1/completions", json=body) as resp:
                await resp.read()
        async with http.get(f"{gw.url}/metrics") as resp:
            text = await resp.text()
        async with http.get(f"{gw.url}/healthz") as resp:
            assert resp.status == 200
        async with http.get(f"{gw.url}/readyz") as resp:
            ready = await resp.json()
    assert 'llmaz_serverless_gateway_requests_total{code="200",model="a"} 1.0' in text
    assert 'llmaz_serverless_gateway_requests_total{code="404",model="_none"} 1.0' in text
    assert 'llmaz_serverless_gateway_request_duration_seconds_count{model="a"} 1.0' in text
    assert 'llmaz_serverless_gateway_upstream_response_header_seconds_count{model="a"} 1.0' in text
    # the gateway's own time: observed for the proxied request only, never for the unknown model
    assert 'llmaz_serverless_gateway_overhead_seconds_count{model="a"} 1.0' in text
    assert 'llmaz_serverless_gateway_overhead_seconds_count{model="_none"}' not in text
    assert 'llmaz_serverless_gateway_overhead_seconds_bucket{le="0.1",model="a"} 1.0' in text
    assert ready == {"status": "ready", "models": 1, "redis": "ok"}
