"""Redis Streams broker semantics against a real redis-server (what KEDA and the worker rely on)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from llmaz_serverless.queue.job import Job, new_job_id
from llmaz_serverless.queue.redis_streams import RedisStreamsBroker

pytestmark = pytest.mark.integration

STREAM = "test:async:m"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    c = aioredis.Redis.from_url(redis_url)
    yield c
    await c.aclose()


def _broker(client: aioredis.Redis, name: str, claim_idle: float = 0.5) -> RedisStreamsBroker:
    return RedisStreamsBroker(
        client, group="workers", consumer=name, streams={STREAM: "m"}, stream_of=lambda job: STREAM,
        dead_letter_stream="test:dlq", claim_idle=claim_idle, consumer_gc_idle=0.2,
    )  # fmt: skip


def _job() -> Job:
    return Job(id=new_job_id(), model="m", api="chat", tenant="t", created_at=time.time(), body="{}")


async def _lag(client: aioredis.Redis) -> object:
    groups = await client.xinfo_groups(STREAM)
    return groups[0]["lag"]


async def test_lag_counts_undelivered_entries_when_jobs_wait_before_any_worker_started(
    client: aioredis.Redis,
) -> None:
    producer = _broker(client, "gateway")
    for _ in range(3):
        await producer.enqueue(_job())
    # The producer created the group from "0": KEDA's lag trigger sees 3 at once.
    assert await _lag(client) == 3
    worker = _broker(client, "w1")
    await worker.start()
    got = await worker.fetch(10, 0.1)
    assert len(got) == 3 and all(d.attempt == 1 for d in got)
    assert (await worker.depth())["m"].lag == 0
    assert (await worker.depth())["m"].pending == 3


async def test_entry_is_taken_over_with_attempt_two_when_its_worker_stops_renewing(
    client: aioredis.Redis,
) -> None:
    a, b = _broker(client, "a"), _broker(client, "b")
    await a.enqueue(_job())
    (d,) = await a.fetch(1, 0.1)
    assert await b.reclaim(10) == []
    await asyncio.sleep(0.6)
    (taken,) = await b.reclaim(10)
    assert (taken.entry_id, taken.attempt) == (d.entry_id, 2)
    # The old owner learns it lost the entry, and its renewal does not steal it back.
    assert [x.entry_id for x in await a.renew([d])] == [d.entry_id]
    pending = await client.xpending_range(STREAM, "workers", "-", "+", 10)
    assert pending[0]["consumer"] == b"b"


async def test_renewal_keeps_a_long_job_from_being_taken_over_when_it_outlives_claim_idle(
    client: aioredis.Redis,
) -> None:
    a, b = _broker(client, "a"), _broker(client, "b")
    await a.enqueue(_job())
    (d,) = await a.fetch(1, 0.1)
    for _ in range(5):  # 1 s of work against a 0.5 s claim idle
        await asyncio.sleep(0.2)
        assert await a.renew([d]) == []
        assert await b.reclaim(10) == []


async def test_retry_waits_about_its_delay_and_counts_an_attempt_when_scheduled(
    client: aioredis.Redis,
) -> None:
    a, b = _broker(client, "a", claim_idle=5.0), _broker(client, "b", claim_idle=5.0)
    await a.enqueue(_job())
    (d,) = await a.fetch(1, 0.1)
    await a.retry_later(d, 0.4)
    assert await b.reclaim(10) == []
    # Waiting retries stay pending: KEDA's pendingEntriesCount keeps a worker for them.
    assert (await b.depth())["m"].pending == 1
    await asyncio.sleep(0.5)
    (again,) = await b.reclaim(10)
    assert again.attempt == 2


async def test_handed_back_entry_is_redelivered_at_once_without_spending_an_attempt_when_released(
    client: aioredis.Redis,
) -> None:
    a, b = _broker(client, "a", claim_idle=30.0), _broker(client, "b", claim_idle=30.0)
    await a.enqueue(_job())
    (d,) = await a.fetch(1, 0.1)
    await a.release(d)
    (again,) = await b.reclaim(10)
    assert again.attempt == 1


async def test_dead_letter_records_the_error_and_acks_when_a_job_is_given_up(client: aioredis.Redis) -> None:
    a = _broker(client, "a")
    job = _job()
    await a.enqueue(job)
    (d,) = await a.fetch(1, 0.1)
    await a.dead_letter(d, job.id, "model_unavailable: HTTP 503")
    (entry,) = await client.xrange("test:dlq")
    fields = entry[1]
    assert fields[b"jobId"] == job.id.encode()
    assert fields[b"error"] == b"model_unavailable: HTTP 503"
    assert (await a.depth())["m"].pending == 0


async def test_lag_stays_a_number_when_acknowledged_entries_are_trimmed(client: aioredis.Redis) -> None:
    a = _broker(client, "a")
    for _ in range(250):
        await a.enqueue(_job())
    delivered = await a.fetch(220, 0.1)
    for d in delivered[:200]:
        await a.ack(d)
    await a.maintain()
    assert await client.xlen(STREAM) < 250  # whole macro-nodes of acknowledged entries went
    assert await _lag(client) == 30  # KEDA still reads a lag (XDEL would make it unknown)
    assert (await a.depth())["m"].pending == 20
    rest = await a.fetch(100, 0.1)
    assert len(rest) == 30


async def test_idle_consumers_without_entries_are_forgotten_when_maintenance_runs(
    client: aioredis.Redis,
) -> None:
    gone, live = _broker(client, "gone-pod"), _broker(client, "live")
    await gone.start()
    await gone.fetch(1, 0.01)
    await asyncio.sleep(0.3)
    await live.maintain()
    names = {c["name"] for c in await client.xinfo_consumers(STREAM, "workers")}
    assert b"gone-pod" not in names
