"""The submit action against a real Redis: a redelivered event queues one job."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from llmaz_serverless.events.dispatch import Dispatcher
from llmaz_serverless.events.intake import parse_http
from llmaz_serverless.events.metrics import EventMetrics
from llmaz_serverless.events.rules import EventRule, RuleSet
from llmaz_serverless.events.submit import JobRequest, Submitter

pytestmark = pytest.mark.integration

STREAM = "test:jobs"

RULE = {
    "name": "nightly-upload",
    "pattern": {"type": ["com.example.upload.finished"], "data": {"kind": ["batch"]}},
    "actions": [
        {
            "submit": {
                "model": "batch-70b",
                "api": "chat",
                "request": {
                    "messages": [{"role": "user", "content": "Process ${data.url}"}],
                    "max_tokens": 64,
                },
            }
        }
    ],
}


def event_body(event_id: str, **data: object) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "/uploads",
            "type": "com.example.upload.finished",
            "data": {"kind": "batch", "url": "s3://in/1.jsonl", **data},
        }
    ).encode()


def stream_enqueue(client: aioredis.Redis):
    async def enqueue(job: JobRequest) -> str:
        await client.xadd(
            STREAM, {"job": json.dumps({"id": job.job_id, "model": job.model, "body": job.body})}
        )
        return job.job_id

    return enqueue


def dispatcher(client: aioredis.Redis, enqueue) -> tuple[Dispatcher, EventMetrics]:
    metrics = EventMetrics(CollectorRegistry())
    rules = RuleSet([EventRule.model_validate(RULE)])
    return Dispatcher(rules, metrics, None, Submitter(client, enqueue, "t:", 60.0)), metrics


async def test_redelivered_event_runs_once_and_returns_the_first_job_id(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    d, metrics = dispatcher(client, stream_enqueue(client))
    [event] = parse_http({"content-type": "application/cloudevents+json"}, event_body("up-1"))
    first = await d.dispatch(event)
    again = await d.dispatch(event)
    assert [o.status for o in first.outcomes] == ["ok"]
    assert [o.status for o in again.outcomes] == ["duplicate"]
    assert first.outcomes[0].detail["jobId"] == again.outcomes[0].detail["jobId"]
    entries = await client.xrange(STREAM)
    assert len(entries) == 1
    job = json.loads(entries[0][1][b"job"])
    assert job["body"] == {
        "messages": [{"role": "user", "content": "Process s3://in/1.jsonl"}],
        "max_tokens": 64,
        "model": "batch-70b",
    }
    assert metrics.actions.labels("nightly-upload", "submit", "duplicate")._value.get() == 1
    await client.aclose()


async def test_concurrent_duplicate_deliveries_queue_one_job(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    d, _ = dispatcher(client, stream_enqueue(client))
    [event] = parse_http({"content-type": "application/cloudevents+json"}, event_body("up-2"))
    results = await asyncio.gather(*(d.dispatch(event) for _ in range(8)))
    assert sorted(r.outcomes[0].status for r in results) == ["duplicate"] * 7 + ["ok"]
    assert await client.xlen(STREAM) == 1
    await client.aclose()


async def test_distinct_event_ids_each_queue_a_job(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    d, _ = dispatcher(client, stream_enqueue(client))
    for i in range(3):
        [event] = parse_http({"content-type": "application/cloudevents+json"}, event_body(f"up-{i}"))
        await d.dispatch(event)
    assert await client.xlen(STREAM) == 3
    await client.aclose()


async def test_failed_enqueue_is_retryable_and_the_redelivery_queues_the_job(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    calls = {"n": 0}
    real = stream_enqueue(client)

    async def flaky(job: JobRequest) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("queue unreachable")
        return await real(job)

    d, metrics = dispatcher(client, flaky)
    [event] = parse_http({"content-type": "application/cloudevents+json"}, event_body("up-9"))
    failed = await d.dispatch(event)
    assert failed.retryable_failure
    assert "queue unreachable" in failed.outcomes[0].detail["error"]
    retried = await d.dispatch(event)
    assert [o.status for o in retried.outcomes] == ["ok"]
    assert await client.xlen(STREAM) == 1
    assert metrics.actions_failed.labels("nightly-upload", "submit", "backend")._value.get() == 1
    await client.aclose()


async def test_event_missing_a_template_field_fails_permanently_without_queueing(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    d, metrics = dispatcher(client, stream_enqueue(client))
    body = json.loads(event_body("up-x"))
    del body["data"]["url"]
    [event] = parse_http({"content-type": "application/cloudevents+json"}, json.dumps(body).encode())
    result = await d.dispatch(event)
    assert result.outcomes[0].status == "failed"
    assert not result.retryable_failure
    assert "the event has no `data.url`" in result.outcomes[0].detail["error"]
    assert await client.exists(STREAM) == 0
    assert metrics.actions_failed.labels("nightly-upload", "submit", "template")._value.get() == 1
    await client.aclose()
