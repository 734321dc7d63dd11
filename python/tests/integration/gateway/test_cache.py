"""Response cache through the real gateway, emulator and Redis."""

import asyncio

import aiohttp
import pytest

pytestmark = pytest.mark.integration

GREEDY = {"model": "m", "prompt": "what is serverless", "temperature": 0, "max_tokens": 8}


def model(name, upstream, **extra):
    return {"name": name, "playground": name, "upstream": upstream, **extra}


async def _post(http, url, body, headers=None):
    async with http.post(url, json=body, headers=headers or {}) as resp:
        return resp.status, resp.headers.get("X-Cache"), resp.headers.get("Content-Type"), await resp.read()


async def _until_hit(http, url, body, headers=None):
    """The store happens just after the answer is sent; give it a moment."""
    for _ in range(50):
        result = await _post(http, url, body, headers)
        if result[1] == "HIT":
            return result
        await asyncio.sleep(0.02)
    return result


async def test_miss_then_hit_with_same_body_and_model_not_called_again(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    url = f"{gw.url}/v1/completions"
    async with aiohttp.ClientSession() as http:
        status, xcache, _, first = await _post(http, url, GREEDY)
        assert (status, xcache) == (200, "MISS")
        status, xcache, ctype, again = await _until_hit(http, url, dict(reversed(list(GREEDY.items()))))
        calls = sim.state()["completedTotal"]
        await _post(http, url, GREEDY)
    assert (status, xcache) == (200, "HIT")
    assert ctype.startswith("application/json")
    assert again == first
    assert sim.state()["completedTotal"] == calls == 1


async def test_streamed_answer_cached_and_replayed_as_sse(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    url = f"{gw.url}/v1/chat/completions"
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True, "temperature": 0}
    async with aiohttp.ClientSession() as http:
        _, miss, _, streamed = await _post(http, url, body)
        _, hit, ctype, replay = await _until_hit(http, url, body)
    assert (miss, hit) == ("MISS", "HIT")
    assert ctype.startswith("text/event-stream")
    assert replay == streamed
    assert replay.endswith(b"data: [DONE]\n\n")
    assert sim.state()["completedTotal"] == 1


async def test_sampled_requests_bypass_unless_opted_in(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    url = f"{gw.url}/v1/completions"
    sampled = {**GREEDY, "temperature": 0.8}
    async with aiohttp.ClientSession() as http:
        first = await _post(http, url, sampled)
        second = await _post(http, url, sampled)
        opted = await _until_hit(http, url, sampled, {"X-Gateway-Cache": "on"})
    assert (first[1], second[1]) == ("BYPASS", "BYPASS")
    assert first[3] != second[3]  # sampling: different text each time
    assert opted[1] == "HIT"


async def test_no_store_neither_reads_nor_writes(emulator, gateway, redis_url):
    import redis

    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    url = f"{gw.url}/v1/completions"
    async with aiohttp.ClientSession() as http:
        result = await _post(http, url, GREEDY, {"Cache-Control": "no-store"})
        await asyncio.sleep(0.1)
    assert result[1] == "BYPASS"
    assert redis.Redis.from_url(redis_url).keys("llmaz-serverless:cache:*") == []


async def test_no_cache_skips_lookup_but_refreshes_entry(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    url = f"{gw.url}/v1/completions"
    async with aiohttp.ClientSession() as http:
        await _post(http, url, GREEDY)
        await _until_hit(http, url, GREEDY)
        refreshed = await _post(http, url, GREEDY, {"Cache-Control": "no-cache"})
    assert refreshed[1] == "MISS"
    assert sim.state()["completedTotal"] == 2


async def test_entry_expires_after_ttl(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)], cache={"ttl": "1s"})
    url = f"{gw.url}/v1/completions"
    async with aiohttp.ClientSession() as http:
        await _post(http, url, GREEDY)
        assert (await _until_hit(http, url, GREEDY))[1] == "HIT"
        await asyncio.sleep(1.2)
        after = await _post(http, url, GREEDY)
    assert after[1] == "MISS"


async def test_errors_never_cached(emulator, gateway):
    sim = emulator(model="m", fail_first=1, fail_status=500)
    gw = gateway([model("m", sim.url)])
    url = f"{gw.url}/v1/completions"
    async with aiohttp.ClientSession() as http:
        failed = await _post(http, url, GREEDY)
        ok = await _post(http, url, GREEDY)
    assert (failed[0], failed[1]) == (500, "MISS")
    assert (ok[0], ok[1]) == (200, "MISS")


async def test_answers_over_max_entry_bytes_not_cached(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)], cache={"maxEntryBytes": 200})
    url = f"{gw.url}/v1/completions"
    async with aiohttp.ClientSession() as http:
        first = await _post(http, url, GREEDY)
        await asyncio.sleep(0.1)
        second = await _post(http, url, GREEDY)
    assert len(first[3]) > 200
    assert (first[1], second[1]) == ("MISS", "MISS")


async def test_model_with_cache_false_always_bypasses(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url, cache=False)])
    async with aiohttp.ClientSession() as http:
        results = [await _post(http, f"{gw.url}/v1/completions", GREEDY) for _ in range(2)]
    assert [r[1] for r in results] == ["BYPASS", "BYPASS"]


async def test_hit_and_miss_metrics(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    async with aiohttp.ClientSession() as http:
        await _post(http, f"{gw.url}/v1/completions", GREEDY)
        await _until_hit(http, f"{gw.url}/v1/completions", GREEDY)
        async with http.get(f"{gw.url}/metrics") as resp:
            text = await resp.text()
    assert 'llmaz_serverless_gateway_cache_hits_total{model="m",tier="local"} 1.0' in text
    assert 'llmaz_serverless_gateway_cache_stores_total{model="m"} 1.0' in text
    assert 'llmaz_serverless_gateway_cache_misses_total{model="m"}' in text


async def test_unknown_cache_opt_in_value_is_refused_with_400_naming_the_header(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{gw.url}/v1/completions", json=GREEDY, headers={"X-Gateway-Cache": "of"}
        ) as resp:
            status, error = resp.status, (await resp.json())["error"]
        ok = await _post(http, f"{gw.url}/v1/completions", GREEDY, {"X-Gateway-Cache": " OFF "})
    assert (status, error["param"], error["code"]) == (400, "X-Gateway-Cache", "invalid_header")
    assert "'of'" in error["message"]
    assert (ok[0], ok[1]) == (200, "BYPASS")
    assert sim.state()["completedTotal"] == 1


@pytest.mark.parametrize("scoped", [True, False])
async def test_scope_by_api_key_keeps_one_cache_per_client(emulator, gateway, tmp_path, scoped):
    keys = tmp_path / "keys"
    keys.write_text("k-alice\nk-bob\n")
    sim = emulator(model="m")
    gw = gateway(
        [model("m", sim.url)],
        auth={"enabled": True, "keysFile": str(keys)},
        cache={"scopeByApiKey": scoped},
    )
    url = f"{gw.url}/v1/completions"
    alice, bob = ({"Authorization": f"Bearer {k}"} for k in ("k-alice", "k-bob"))
    async with aiohttp.ClientSession() as http:
        assert (await _post(http, url, GREEDY, alice))[1] == "MISS"
        assert (await _until_hit(http, url, GREEDY, alice))[1] == "HIT"
        # Scoped, Bob's identical prompt is his own miss: X-Cache cannot tell him what Alice sent.
        assert (await _post(http, url, GREEDY, bob))[1] == ("MISS" if scoped else "HIT")
    assert sim.state()["completedTotal"] == (2 if scoped else 1)
