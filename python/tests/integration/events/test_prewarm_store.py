"""Pre-warm windows against a real Redis: start, extend, expire by TTL, shared across clients."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from llmaz_serverless.events.prewarm import PrewarmStore

pytestmark = __import__("pytest").mark.integration


async def test_window_opens_with_the_rules_floor_and_sets_a_key_ttl(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    store = PrewarmStore(client, "t:")
    window, opened = await store.open("chat-8b", "ui-opened", 2, 5.0)
    state = await store.state("chat-8b")
    assert opened.replicas == 2, "open() reports the floor after the update"
    assert state.replicas == 2
    assert [(w.rule, w.replicas) for w in state.windows] == [("ui-opened", 2)]
    assert 4.5 < window.remaining(state.now_ms) <= 5.0
    pttl = await client.pttl("t:prewarm:chat-8b")
    assert 4000 < pttl <= 5000
    assert (await store.state("other")).replicas == 0
    await client.aclose()


async def test_window_extends_from_the_last_event_and_never_shrinks(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    store = PrewarmStore(client, "t:")
    first, _ = await store.open("m", "r", 1, 0.6)
    await asyncio.sleep(0.3)
    second, _ = await store.open("m", "r", 1, 0.6)
    assert second.ends_ms - first.ends_ms >= 250
    # A shorter window from another event of the same rule cannot pull the end in.
    await store.open("m", "r", 1, 0.05)
    state = await store.state("m")
    assert [w.ends_ms for w in state.windows] == [second.ends_ms]
    await asyncio.sleep(0.45)  # past the first window's end, before the extended one's
    assert (await store.state("m")).replicas == 1
    await client.aclose()


async def test_state_expires_and_redis_drops_the_key_when_the_last_window_ends(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    store = PrewarmStore(client, "t:")
    await store.open("m", "short", 3, 0.2)
    await store.open("m", "long", 1, 0.5)
    assert (await store.state("m")).replicas == 3
    await asyncio.sleep(0.3)
    state = await store.state("m")
    assert state.replicas == 1, "the larger floor ended, the smaller window still holds"
    assert [w.rule for w in state.windows] == ["long"]
    await asyncio.sleep(0.3)
    assert (await store.state("m")).replicas == 0
    assert await client.exists("t:prewarm:m") == 0
    await client.aclose()


async def test_state_is_shared_by_separate_clients_like_gateway_replicas_and_restarts(redis_url):
    writer = aioredis.Redis.from_url(redis_url)
    await PrewarmStore(writer, "t:").open("m", "r", 2, 5.0)
    await writer.aclose()  # the writing "gateway" is gone
    reader = aioredis.Redis.from_url(redis_url)
    assert (await PrewarmStore(reader, "t:").state("m")).replicas == 2
    await reader.aclose()


async def test_same_rule_with_a_changed_floor_keeps_both_until_the_old_one_ends(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    store = PrewarmStore(client, "t:")
    await store.open("m", "r", 1, 5.0)
    await store.open("m", "r", 4, 5.0)
    assert (await store.state("m")).replicas == 4
    await client.aclose()
