import asyncio

import redis.asyncio as aioredis
from multidict import CIMultiDict
from prometheus_client import CollectorRegistry, Counter

from llmaz_serverless.gateway.cache import (
    BYPASS,
    CachedResponse,
    ResponseCache,
    cache_key,
    decide,
    is_deterministic,
)
from llmaz_serverless.gateway.settings import CacheSettings

ON = CacheSettings()


def _decide(body, headers=None, model_allows=True, settings=ON):
    return decide(CIMultiDict(headers or {}), body, model_allows, settings)


def test_deterministic_when_temperature_zero_or_top_k_one():
    assert is_deterministic({"temperature": 0})
    assert is_deterministic({"temperature": 0.7, "top_k": 1})
    assert not is_deterministic({})
    assert not is_deterministic({"temperature": 0.2})
    assert not is_deterministic({"temperature": False})


def test_lookup_and_store_when_greedy():
    d = _decide({"temperature": 0})
    assert (d.lookup, d.store, d.label) == (True, True, "MISS")


def test_bypass_when_sampling_unless_opted_in():
    assert _decide({"temperature": 1}) is BYPASS
    d = _decide({"temperature": 1}, {"X-Gateway-Cache": "on"})
    assert (d.lookup, d.store) == (True, True)


def test_bypass_when_no_store_or_opted_out_or_model_or_settings_disallow():
    assert _decide({"temperature": 0}, {"Cache-Control": "no-store"}) is BYPASS
    assert _decide({"temperature": 0}, {"x-gateway-cache": "OFF"}) is BYPASS
    assert _decide({"temperature": 0}, model_allows=False) is BYPASS
    assert _decide({"temperature": 0}, settings=CacheSettings(enabled=False)) is BYPASS


def test_store_without_lookup_when_no_cache():
    d = _decide({"temperature": 0}, {"Cache-Control": "no-cache"})
    assert (d.lookup, d.store, d.label) == (False, True, "MISS")


def test_key_ignores_field_order_and_output_neutral_fields():
    a = cache_key("p:", "/v1/completions", {"model": "m", "prompt": "x", "temperature": 0})
    b = cache_key("p:", "/v1/completions", {"temperature": 0, "prompt": "x", "model": "m", "user": "bob"})
    assert a == b
    assert a.startswith("p:")


def test_key_differs_by_prompt_params_endpoint_stream_and_scope():
    base = {"model": "m", "prompt": "x", "temperature": 0}
    key = cache_key("p:", "/v1/completions", base)
    assert key != cache_key("p:", "/v1/completions", {**base, "prompt": "y"})
    assert key != cache_key("p:", "/v1/completions", {**base, "max_tokens": 5})
    assert key != cache_key("p:", "/v1/completions", {**base, "stream": True})
    assert key != cache_key("p:", "/v1/chat/completions", base)
    assert key != cache_key("p:", "/v1/completions", base, scope="tenant-a")


def test_entry_round_trips_content_type_body_and_expiry():
    entry = CachedResponse("text/event-stream; charset=utf-8", b"data: {}\n\ndata: [DONE]\n\n", 1234.5)
    assert CachedResponse.decode(entry.encode()) == entry


async def test_put_then_get_then_expires_after_ttl(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    cache = ResponseCache(client, CacheSettings(ttl=1))
    entry = CachedResponse("application/json", b'{"ok": true}')
    assert await cache.get("k") is None
    assert await cache.put("k", entry)
    got = await cache.get("k")
    assert (got.content_type, got.body) == (entry.content_type, entry.body)
    assert 0 < await client.ttl("k") <= 1
    await asyncio.sleep(1.2)
    assert await cache.get("k") is None
    await client.aclose()


async def test_entry_over_max_size_not_stored(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    cache = ResponseCache(client, CacheSettings(max_entry_bytes=100))
    assert not await cache.put("big", CachedResponse("application/json", b"x" * 200))
    assert await client.exists("big") == 0
    await client.aclose()


async def test_redis_down_is_a_counted_miss_not_an_error():
    from llmaz_serverless.launcher import free_port

    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    errors = Counter("errs", "x", registry=CollectorRegistry())
    cache = ResponseCache(client, CacheSettings(redis_timeout=0.5), errors)
    assert await cache.get("k") is None
    assert not await cache.put("k", CachedResponse("application/json", b"{}"))
    assert errors._value.get() == 2
    await client.aclose()


async def test_ttl_below_one_second_rounds_up_to_one(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    cache = ResponseCache(client, CacheSettings(ttl=0.4))
    await cache.put("k", CachedResponse("a", b"b"))
    assert await client.ttl("k") == 1
    await client.aclose()


async def test_replica_reads_redis_once_then_its_local_tier(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    writer = ResponseCache(client, CacheSettings())
    reader = ResponseCache(client, CacheSettings())
    await writer.put("k", CachedResponse("application/json", b"{}"))
    assert (await writer.lookup("k"))[1] == "local"
    assert (await reader.lookup("k"))[1] == "redis"
    await client.delete("k")
    # The local copy keeps serving until the entry's own expiry.
    assert (await reader.lookup("k"))[1] == "local"
    await client.aclose()


async def test_local_tier_off_when_local_max_bytes_zero(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    cache = ResponseCache(client, CacheSettings(local_max_bytes=0))
    await cache.put("k", CachedResponse("application/json", b"{}"))
    assert (await cache.lookup("k"))[1] == "redis"
    await client.delete("k")
    assert await cache.lookup("k") is None
    await client.aclose()


async def test_local_tier_evicts_least_recently_used_beyond_its_bytes(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    one = CachedResponse("t", b"x" * 100)
    cache = ResponseCache(client, CacheSettings(local_max_bytes=2 * one.size))
    for key in ("a", "b"):
        await cache.put(key, one)
    await cache.lookup("a")  # a is now more recent than b
    await cache.put("c", one)
    await client.delete("a", "b", "c")
    assert await cache.lookup("a") is not None
    assert await cache.lookup("b") is None
    assert await cache.lookup("c") is not None
    await client.aclose()


async def test_expired_entry_not_served_from_local_tier(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    cache = ResponseCache(client, CacheSettings(ttl=1))
    await cache.put("k", CachedResponse("t", b"b"))
    await client.delete("k")
    await asyncio.sleep(1.1)
    assert await cache.lookup("k") is None
    await client.aclose()


async def test_foreign_value_under_a_key_is_a_miss(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    await client.set("k", b"not an entry")
    assert await ResponseCache(client, CacheSettings()).lookup("k") is None
    await client.aclose()
