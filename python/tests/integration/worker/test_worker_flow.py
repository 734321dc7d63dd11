"""The worker end to end: queue -> model (emulator) -> result store -> signed webhook."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from cloudevents.core.bindings.http import HTTPMessage, from_http_event

from llmaz_serverless_testing.appservers import EmulatorServer
from llmaz_serverless_testing.worker import Client, WebhookReceiver, running_worker, wait_until_async

pytestmark = pytest.mark.integration

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}


async def test_result_is_stored_and_a_signed_cloudevent_received_when_a_job_is_processed(
    emulator: Callable[..., EmulatorServer],
    document: Callable[..., dict[str, Any]],
    receiver: WebhookReceiver,
) -> None:
    sim = emulator()
    doc = document(sim.url)
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit({**CHAT, "async": {"webhook": receiver.url}})
        status = await client.wait_finished(job_id)
        (hook,) = await receiver.wait_for(1)
        final = await client.status.get(job_id)
        stored = json.loads(await client.result(job_id) or b"null")

    assert status["state"] == "succeeded" and status["attempts"] == 1
    assert stored["object"] == "chat.completion" and stored["model"] == "m"
    assert hook.signature_ok
    event = from_http_event(
        HTTPMessage(headers={"content-type": hook.headers["Content-Type"]}, body=hook.body)
    )
    assert event.get_type() == "io.llmaz.serverless.async.job.succeeded"  # type: ignore[attr-defined]
    assert event.get_subject() == job_id  # type: ignore[attr-defined]
    assert event.get_data()["result"] == stored  # type: ignore[attr-defined]
    assert final is not None and final["notification"]["state"] == "delivered"
    assert final["notification"]["statusCode"] == 200


async def test_job_is_retried_then_dead_lettered_and_failure_announced_when_the_model_always_fails(
    emulator: Callable[..., EmulatorServer],
    document: Callable[..., dict[str, Any]],
    receiver: WebhookReceiver,
    redis_url: str,
) -> None:
    sim = emulator(fail_rate=1.0, fail_status=503)
    doc = document(sim.url, maxAttempts=3)
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit({**CHAT, "async": {"webhook": receiver.url}})
        status = await client.wait_finished(job_id)
        (hook,) = await receiver.wait_for(1)

    assert status["state"] == "failed"
    assert status["attempts"] == 3
    assert sim.state()["requestsTotal"] == 3
    assert "gave up after 3 attempts" in status["error"]["message"]
    r = aioredis.Redis.from_url(redis_url)
    dead = await r.xrange(client.settings.dead_letter_stream)
    await r.aclose()
    assert len(dead) == 1
    assert dead[0][1][b"jobId"] == job_id.encode()
    assert dead[0][1][b"attempts"] == b"3"
    assert b"503" in dead[0][1][b"error"]
    assert hook.signature_ok and hook.event is not None
    assert hook.event["type"] == "io.llmaz.serverless.async.job.failed"
    assert hook.event["data"]["error"]["code"] == "model_unavailable"


async def test_job_is_dead_lettered_at_once_without_retry_when_the_model_rejects_the_request(
    emulator: Callable[..., EmulatorServer], document: Callable[..., dict[str, Any]]
) -> None:
    # The emulator serves "other": the request names "m", which it refuses with 404 like vLLM.
    sim = emulator(model="other")
    doc = document(sim.url, maxAttempts=5)
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit(CHAT)
        status = await client.wait_finished(job_id)
    assert status["state"] == "failed"
    assert status["attempts"] == 1
    assert status["error"]["code"] == "model_rejected" and status["error"]["status"] == 404


async def test_job_succeeds_on_a_later_attempt_when_the_model_recovers(
    emulator: Callable[..., EmulatorServer], document: Callable[..., dict[str, Any]]
) -> None:
    sim = emulator(fail_first=2, fail_status=502)
    doc = document(sim.url, maxAttempts=3)
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit(CHAT)
        status = await client.wait_finished(job_id)
    assert status["state"] == "succeeded"
    assert status["attempts"] == 3
    assert status["lastError"]["status"] == 502


async def test_webhook_is_retried_with_backoff_until_accepted_when_the_receiver_fails_first(
    emulator: Callable[..., EmulatorServer],
    document: Callable[..., dict[str, Any]],
    receiver: WebhookReceiver,
) -> None:
    receiver.fail_first = 2
    sim = emulator()
    doc = document(sim.url)
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit({**CHAT, "async": {"webhook": receiver.url}})
        await client.wait_finished(job_id)
        hooks = await receiver.wait_for(3)

        async def delivered() -> dict[str, Any] | None:
            s = await client.status.get(job_id)
            return s if s and s.get("notification", {}).get("state") == "delivered" else None

        final = await wait_until_async(delivered, 5)
    assert [h.answered for h in hooks] == [500, 500, 200]
    assert len({h.event["id"] for h in hooks if h.event}) == 1  # same event id: receivers can dedupe
    assert [h.headers["X-Llmaz-Delivery-Attempt"] for h in hooks] == ["1", "2", "3"]
    assert final["notification"]["attempts"] == 3


async def test_notification_is_recorded_failed_naming_the_missing_secret_when_tenant_has_none(
    emulator: Callable[..., EmulatorServer],
    document: Callable[..., dict[str, Any]],
    receiver: WebhookReceiver,
) -> None:
    sim = emulator()
    doc = document(sim.url)
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit({**CHAT, "async": {"webhook": receiver.url}}, tenant="acme")

        async def recorded() -> dict[str, Any] | None:
            s = await client.status.get(job_id)
            return s if s and s.get("notification", {}).get("state") == "failed" else None

        final = await wait_until_async(recorded, 10)
    assert final["state"] == "succeeded"
    assert "no webhook secret for tenant 'acme'" in final["notification"]["error"]
    assert receiver.received == []


async def test_job_fails_naming_the_setting_when_a_result_exceeds_inline_limit_without_object_store(
    emulator: Callable[..., EmulatorServer], document: Callable[..., dict[str, Any]]
) -> None:
    sim = emulator()
    doc = document(sim.url, results={"inlineMaxBytes": 50})
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit(CHAT)
        status = await client.wait_finished(job_id)
    assert status["state"] == "failed"
    assert status["error"]["code"] == "result_too_large"
    assert "queue.objectStore.type" in status["error"]["message"]


async def test_metrics_count_outcomes_and_expose_queue_depth_when_jobs_ran(
    emulator: Callable[..., EmulatorServer], document: Callable[..., dict[str, Any]]
) -> None:
    sim = emulator()
    doc = document(sim.url)
    async with Client(doc) as client, running_worker(doc) as service:
        ids = [await client.submit(CHAT) for _ in range(5)]
        for job_id in ids:
            await client.wait_finished(job_id)
        registry = service.metrics.registry

        # The worker counts a job after its status commit returns, so a client can see
        # "succeeded" a moment before the counter moves: wait for the count, then check it.
        async def counted() -> tuple[float, float] | None:
            succeeded = registry.get_sample_value(
                "llmaz_serverless_async_jobs_total", {"model": "m", "outcome": "succeeded"}
            )
            observed = registry.get_sample_value(
                "llmaz_serverless_async_latency_seconds_count", {"model": "m"}
            )
            if (succeeded or 0) >= 5 and (observed or 0) >= 5:
                return succeeded, observed
            return None

        succeeded, observed = await wait_until_async(counted, 5, what="5 jobs counted")
    assert succeeded == 5
    assert observed == 5


async def test_redelivered_entry_of_a_finished_job_is_only_acknowledged_when_its_ack_was_lost(
    emulator: Callable[..., EmulatorServer], document: Callable[..., dict[str, Any]], redis_url: str
) -> None:
    sim = emulator()
    doc = document(sim.url, maxAttempts=3)
    async with Client(doc) as client:
        job_id = await client.submit(CHAT)
        stream = client.settings.stream_for("m")
        r = aioredis.Redis.from_url(redis_url)
        # An earlier worker ("ghost") finished the job and died before acknowledging,
        # after so many takeovers that the entry is past maxAttempts.
        await r.xreadgroup("workers", "ghost", {stream: ">"}, count=1)
        (row,) = await r.xpending_range(stream, "workers", "-", "+", 1)
        await r.xclaim(
            stream, "workers", "ghost", 0, [row["message_id"]], idle=60_000, retrycount=7, justid=True
        )
        await client.status.commit(job_id, "succeeded", {"attempts": 1})
        async with running_worker(doc):

            async def acked() -> bool:
                return int((await r.xpending(stream, "workers"))["pending"]) == 0

            await wait_until_async(acked, 10, what="entry acknowledged")
        dead = await r.xlen(client.settings.dead_letter_stream)
        await r.aclose()
        status = await client.status.get(job_id)
    assert status is not None and status["state"] == "succeeded"
    assert dead == 0
    assert sim.state()["requestsTotal"] == 0
