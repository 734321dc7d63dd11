"""Events read from a Redis stream (real Redis): handled once, acked, retried on backend failure."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from llmaz_serverless.events.dispatch import Dispatcher
from llmaz_serverless.events.intake import Limits
from llmaz_serverless.events.metrics import EventMetrics
from llmaz_serverless.events.prewarm import PrewarmStore
from llmaz_serverless.events.rules import EventRule, RuleSet
from llmaz_serverless.events.settings import StreamSettings
from llmaz_serverless.events.stream import StreamIntake

pytestmark = pytest.mark.integration

RULE = EventRule.model_validate(
    {
        "name": "ui-opened",
        "pattern": {"type": ["com.example.ui.opened"]},
        "actions": [{"prewarm": {"models": ["chat"], "replicas": 1, "window": "5m"}}],
    }
)
SETTINGS = StreamSettings(
    enabled=True, name="t:events", group="gw", block=0.05, claim_idle=0.2, max_deliveries=3
)


def _event(event_id: str, event_type: str = "com.example.ui.opened") -> str:
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "/ui", "type": event_type})


def _intake(client: aioredis.Redis, store_client: aioredis.Redis, consumer: str = "c1"):
    metrics = EventMetrics(CollectorRegistry())
    store = PrewarmStore(store_client, "t:")
    dispatcher = Dispatcher(RuleSet([RULE]), metrics, store, None)
    return StreamIntake(client, SETTINGS, dispatcher, metrics, Limits(), consumer), store, metrics


async def test_stream_entries_are_handled_and_acknowledged(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    intake, store, metrics = _intake(client, client)
    await intake.ensure_group()
    await client.xadd("t:events", {"event": _event("s-1")})
    await client.xadd(
        "t:events", {"event": json.dumps([json.loads(_event("s-2")), json.loads(_event("s-3", "x"))])}
    )
    assert await intake.step() == 2
    assert (await store.state("chat")).replicas == 1
    assert metrics.received.labels("stream")._value.get() == 3
    assert metrics.matched.labels("ui-opened")._value.get() == 2
    assert (await client.xpending("t:events", "gw"))["pending"] == 0
    await client.aclose()


async def test_bad_entries_are_counted_and_dropped_without_blocking_the_stream(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    intake, store, metrics = _intake(client, client)
    await intake.ensure_group()
    await client.xadd("t:events", {"event": "{not json"})
    await client.xadd("t:events", {"other": "x"})
    await client.xadd("t:events", {"event": _event("ok")})
    assert await intake.step() == 3
    assert metrics.rejected.labels("bad_json")._value.get() == 1
    assert metrics.rejected.labels("not_cloudevent")._value.get() == 1
    assert (await store.state("chat")).replicas == 1
    assert (await client.xpending("t:events", "gw"))["pending"] == 0
    await client.aclose()


async def test_entry_whose_action_failed_is_retried_by_another_replica_then_dropped_after_max(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.1, retry=Retry(NoBackoff(), 0))
    failing, _, metrics = _intake(client, dead, consumer="broken-replica")
    await failing.ensure_group()
    await client.xadd("t:events", {"event": _event("r-1")})
    assert await failing.step() == 1
    assert (await client.xpending("t:events", "gw"))["pending"] == 1, "left pending for a retry"
    # Another replica with a working Redis takes the idle entry over and handles it.
    healthy, store, _ = _intake(client, client, consumer="healthy-replica")
    await asyncio.sleep(0.25)
    assert await healthy.step() == 1
    assert (await store.state("chat")).replicas == 1
    assert (await client.xpending("t:events", "gw"))["pending"] == 0

    # A failure that never heals: dropped after maxDeliveries (3), not retried for ever.
    await client.xadd("t:events", {"event": _event("r-2")})
    for _ in range(3):
        await failing.step()
        await asyncio.sleep(0.25)
    assert (await client.xpending("t:events", "gw"))["pending"] == 0
    assert metrics.actions_failed.labels("ui-opened", "prewarm", "backend")._value.get() == 4
    await dead.aclose()
    await client.aclose()
