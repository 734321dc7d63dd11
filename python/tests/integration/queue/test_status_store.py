"""Job status transitions in real Redis: one completion, one queued notification."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from llmaz_serverless.queue.job import Job, new_job_id
from llmaz_serverless.queue.status import StatusStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[StatusStore]:
    client = aioredis.Redis.from_url(redis_url)
    yield StatusStore(client, key_prefix="t:", ttl=60, outbox_stream="t:notify")
    await client.aclose()


def _job(webhook: str | None = None) -> Job:
    return Job(
        id=new_job_id(), model="m", api="chat", tenant="t", created_at=time.time(), body="{}", webhook=webhook
    )


async def test_only_the_first_commit_counts_and_later_ones_are_tallied_when_a_job_finishes_twice(
    store: StatusStore,
) -> None:
    job = _job(webhook="http://127.0.0.1/h")
    await store.create(job)
    assert await store.mark_running(job.id, 1, "a") == "running"
    assert await store.commit(job.id, "succeeded", {"result": {"store": "redis"}, "attempts": 1})
    assert not await store.commit(job.id, "failed", {"error": {"code": "late"}, "attempts": 2})
    status = await store.get(job.id)
    assert status is not None
    assert (status["state"], status["commits"], status["duplicateCompletions"]) == ("succeeded", 1, 1)
    assert "error" not in status
    assert await store.client.xlen("t:notify") == 1  # one webhook queued, not two


async def test_no_notification_is_queued_when_the_job_has_no_webhook(store: StatusStore) -> None:
    job = _job()
    await store.create(job)
    await store.commit(job.id, "succeeded", {"attempts": 1})
    assert await store.client.exists("t:notify") == 0


async def test_mark_running_reports_the_terminal_state_when_an_earlier_attempt_finished(
    store: StatusStore,
) -> None:
    job = _job()
    await store.create(job)
    await store.commit(job.id, "failed", {"error": {"code": "x"}})
    assert await store.mark_running(job.id, 2, "b") == "failed"
    status = await store.get(job.id)
    assert status is not None and status["state"] == "failed" and status.get("worker") is None


async def test_status_expires_after_the_result_ttl_when_written(store: StatusStore) -> None:
    job = _job()
    await store.create(job)
    await store.mark_retry(job.id, 1, {"code": "model_unavailable"}, 2.0)
    ttl = await store.client.ttl(store.key(job.id))
    assert 0 < ttl <= 60
    status = await store.get(job.id)
    assert status is not None and status["lastError"] == {"code": "model_unavailable"}
    assert status["nextAttemptAt"] > time.time()
