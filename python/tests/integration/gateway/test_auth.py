"""Optional API-key auth with keys from a mounted Secret file or env."""

import asyncio
import os

import aiohttp
import pytest

pytestmark = pytest.mark.integration


def model(name, upstream, **extra):
    return {"name": name, "playground": name, "upstream": upstream, **extra}


async def _status(http, url, key=None, body=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with http.post(url, json=body or {"model": "m", "prompt": "p"}, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_requests_need_a_valid_key_and_probes_do_not(echo, gateway, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# from Secret gateway-api-keys\nk-file\n")
    gw = gateway(
        [model("m", echo.url)],
        environ={"LLMAZ_SERVERLESS_API_KEYS": "k-env1, k-env2"},
        auth={"enabled": True, "keysFile": str(keys)},
    )
    url = f"{gw.url}/v1/completions"
    async with aiohttp.ClientSession() as http:
        missing = await _status(http, url)
        wrong = await _status(http, url, "nope")
        ok_file = await _status(http, url, "k-file")
        ok_env = await _status(http, url, "k-env2")
        for path in ("/healthz", "/readyz", "/metrics"):
            async with http.get(gw.url + path) as resp:
                assert resp.status == 200, path
        async with http.get(f"{gw.url}/v1/models") as resp:
            assert resp.status == 401
    assert missing[0] == wrong[0] == 401
    assert missing[1]["error"]["code"] == "missing_api_key"
    assert wrong[1]["error"]["code"] == "invalid_api_key"
    assert wrong[1]["error"]["type"] == "authentication_error"
    assert ok_file[0] == ok_env[0] == 200
    # The gateway's key is not forwarded to the model.
    assert all("authorization" not in r["headers"] for r in echo.requests)
    assert len(echo.requests) == 2


async def test_rotated_keys_file_applies_without_restart(echo, gateway, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("old\n")
    gw = gateway([model("m", echo.url)], auth={"enabled": True, "keysFile": str(keys)})
    url = f"{gw.url}/v1/completions"
    async with aiohttp.ClientSession() as http:
        assert (await _status(http, url, "old"))[0] == 200
        keys.write_text("new\n")
        os.utime(keys, (1, 1))  # a different mtime, as a Secret update gives
        for _ in range(60):
            if (await _status(http, url, "new"))[0] == 200:
                break
            await asyncio.sleep(0.1)
        assert (await _status(http, url, "new"))[0] == 200
        assert (await _status(http, url, "old"))[0] == 401


async def test_authorization_forwarded_when_gateway_auth_off(echo, gateway):
    gw = gateway([model("m", echo.url)])
    async with aiohttp.ClientSession() as http:
        assert (await _status(http, f"{gw.url}/v1/completions", "model-server-key"))[0] == 200
    assert echo.requests[0]["headers"]["authorization"] == "Bearer model-server-key"
