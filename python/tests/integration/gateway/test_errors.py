"""OpenAI-shaped errors for bad requests, body limits, unknown routes, upstream errors."""

import aiohttp
import pytest

pytestmark = pytest.mark.integration


def model(name, upstream, **extra):
    return {"name": name, "playground": name, "upstream": upstream, **extra}


def _is_openai_error(data, code=None):
    err = data["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["message"]
    if code is not None:
        assert err["code"] == code
    return err


async def test_body_over_limit_is_413_with_content_length_and_chunked(echo, gateway):
    gw = gateway([model("m", echo.url)], maxBodyBytes=1000)
    big = b'{"model": "m", "prompt": "' + b"x" * 2000 + b'"}'

    async def chunks():
        for i in range(0, len(big), 100):
            yield big[i : i + 100]

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw.url}/v1/completions", data=big) as resp:
            assert resp.status == 413
            err = _is_openai_error(await resp.json(), "request_too_large")
        async with http.post(f"{gw.url}/v1/completions", data=chunks()) as resp:
            assert resp.status == 413
            _is_openai_error(await resp.json(), "request_too_large")
        async with http.post(f"{gw.url}/v1/completions", json={"model": "m", "prompt": "small"}) as resp:
            assert resp.status == 200
    assert "1000 bytes" in err["message"] and "maxBodyBytes" in err["message"]
    assert len(echo.requests) == 1


async def test_invalid_json_and_missing_model_are_400(echo, gateway):
    gw = gateway([model("m", echo.url)])
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw.url}/v1/completions", data=b"{oops") as resp:
            assert resp.status == 400
            _is_openai_error(await resp.json(), "invalid_json")
        async with http.post(f"{gw.url}/v1/completions", json=["not", "an", "object"]) as resp:
            assert resp.status == 400
        async with http.post(f"{gw.url}/v1/completions", json={"prompt": "p"}) as resp:
            assert resp.status == 400
            assert _is_openai_error(await resp.json())["param"] == "model"
    assert echo.requests == []


async def test_unknown_path_404_and_wrong_method_405_in_openai_shape(gateway):
    gw = gateway([])
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw.url}/v1/nothing-here", json={}) as resp:
            assert resp.status == 404
            _is_openai_error(await resp.json())
        async with http.get(f"{gw.url}/v1/completions") as resp:
            assert resp.status == 405
            _is_openai_error(await resp.json())


async def test_upstream_error_passed_through_with_its_status(emulator, gateway):
    sim = emulator(model="m", fail_first=1, fail_status=500)
    gw = gateway([model("m", sim.url)])
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/v1/completions", json={"model": "m", "prompt": "p"}) as resp,
    ):
        assert resp.status == 500
        assert "injected failure" in (await resp.json())["error"]["message"]


async def test_request_deadline_is_504_before_answer(emulator, gateway):
    sim = emulator(model="m", ttft=2.0)
    gw = gateway([model("m", sim.url, timeouts={"request": "300ms"})])
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/v1/completions", json={"model": "m", "prompt": "p"}) as resp,
    ):
        assert resp.status == 504
        _is_openai_error(await resp.json(), "request_timeout")
