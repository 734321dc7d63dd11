"""The NATS JetStream backend against a real nats-server: broker semantics and the worker's core flow."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from llmaz_serverless.queue.broker import QueueDepth
from llmaz_serverless.queue.job import Job, new_job_id
from llmaz_serverless.queue.nats_jetstream import NatsJetStreamBroker, subject_token
from llmaz_serverless.queue.settings import NatsSettings
from llmaz_serverless_testing.appservers import EmulatorServer
from llmaz_serverless_testing.servers import NatsServer
from llmaz_serverless_testing.worker import Client, WebhookReceiver, running_worker, runtime_config

pytestmark = pytest.mark.integration

SECRET = b"nats-tenant-secret"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}


@pytest.fixture
def nats_section(nats_server: NatsServer) -> dict[str, Any]:
    """A stream and subjects of this test's own on the session's nats-server."""
    tag = uuid.uuid4().hex[:8]
    return {
        "url": nats_server.url, "stream": f"T{tag}", "subjectPrefix": f"t{tag}.jobs",
        "consumer": "workers", "deadLetterSubject": f"t{tag}.dead",
    }  # fmt: skip


def _job(model: str = "m") -> Job:
    return Job(id=new_job_id(), model=model, api="chat", tenant="t", created_at=time.time(), body="{}")


@pytest.fixture
async def brokers(
    nats_section: dict[str, Any],
) -> AsyncIterator[tuple[NatsJetStreamBroker, NatsJetStreamBroker]]:
    settings = NatsSettings.model_validate(nats_section)
    a = NatsJetStreamBroker(settings, models=["m"], claim_idle=1.0)
    b = NatsJetStreamBroker(settings, models=["m"], claim_idle=1.0)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


def test_subject_token_is_one_valid_token_when_the_model_name_has_dots_or_wildcards() -> None:
    assert subject_token("llama-3.1-8b") == "llama-3_1-8b"
    assert subject_token("a b*>c") == "a_b__c"


async def test_duplicate_submit_of_one_job_is_queued_once_when_published_twice(
    brokers: tuple[NatsJetStreamBroker, NatsJetStreamBroker],
) -> None:
    a, _ = brokers
    job = _job()
    await a.enqueue(job)
    await a.enqueue(job)
    assert (await a.depth())["m"].lag == 1


async def test_each_model_has_its_own_consumer_and_depth_when_jobs_of_two_models_are_queued(
    nats_section: dict[str, Any],
) -> None:
    settings = NatsSettings.model_validate(nats_section)
    producer = NatsJetStreamBroker(settings, models=["m", "llama-3.1"])
    await producer.start()
    try:
        # The consumers exist before the first job: KEDA reads a missing consumer as the stream's
        # last sequence, a backlog that never drains.
        assert await producer.depth() == {"m": QueueDepth(0, 0), "llama-3.1": QueueDepth(0, 0)}
        for _ in range(3):
            await producer.enqueue(_job("m"))
        await producer.enqueue(_job("llama-3.1"))
        assert await producer.depth() == {"m": QueueDepth(3, 0), "llama-3.1": QueueDepth(1, 0)}
        assert producer.consumer_for("llama-3.1") == "workers-llama-3_1"
    finally:
        await producer.close()


async def test_fetch_takes_entries_of_every_model_and_never_more_than_asked_when_both_have_jobs(
    nats_section: dict[str, Any],
) -> None:
    settings = NatsSettings.model_validate(nats_section)
    worker = NatsJetStreamBroker(settings, models=["a", "b"], claim_idle=5.0)
    await worker.start()
    try:
        for model in ("a", "a", "a", "b"):
            await worker.enqueue(_job(model))
        first = await worker.fetch(2, 0.5)
        assert len(first) == 2
        rest = await worker.fetch(10, 0.5)
        subjects = sorted(d.stream for d in first + rest)
        assert subjects == [worker.subject_for("a")] * 3 + [worker.subject_for("b")]
        assert await worker.depth() == {"a": QueueDepth(0, 3), "b": QueueDepth(0, 1)}
        for d in first + rest:
            await worker.ack(d)
        assert await worker.fetch(10, 0.2) == []
        assert await worker.depth() == {"a": QueueDepth(0, 0), "b": QueueDepth(0, 0)}
    finally:
        await worker.close()


async def test_fetch_waits_for_a_job_of_any_model_when_none_is_queued(nats_section: dict[str, Any]) -> None:
    settings = NatsSettings.model_validate(nats_section)
    worker = NatsJetStreamBroker(settings, models=["a", "b"])
    await worker.start()
    try:
        t0 = time.monotonic()
        assert await worker.fetch(4, 0.6) == []
        assert time.monotonic() - t0 >= 0.5
        await worker.enqueue(_job("b"))
        (d,) = await worker.fetch(4, 2.0)
        assert d.stream == worker.subject_for("b")
        await worker.ack(d)
    finally:
        await worker.close()


async def test_retry_is_redelivered_after_its_delay_with_the_next_attempt_when_nakked(
    brokers: tuple[NatsJetStreamBroker, NatsJetStreamBroker],
) -> None:
    a, b = brokers
    await a.enqueue(_job())
    (d,) = await a.fetch(5, 1.0)
    t0 = time.monotonic()
    await a.retry_later(d, 0.4)
    assert await b.fetch(5, 0.2) == []
    (again,) = await b.fetch(5, 2.0)
    assert time.monotonic() - t0 >= 0.35
    assert again.attempt == 2


async def test_renewed_message_is_not_redelivered_when_its_job_outlives_ack_wait(
    brokers: tuple[NatsJetStreamBroker, NatsJetStreamBroker],
) -> None:
    a, b = brokers
    await a.enqueue(_job())
    (d,) = await a.fetch(1, 1.0)
    for _ in range(4):  # 1.6 s of work, ack wait 1 s
        await asyncio.sleep(0.4)
        await a.renew([d])
        assert await b.fetch(1, 0.01) == []
    await a.ack(d)
    assert (await a.depth())["m"] == QueueDepth(lag=0, pending=0)


async def test_message_is_redelivered_to_another_worker_when_its_worker_goes_silent(
    brokers: tuple[NatsJetStreamBroker, NatsJetStreamBroker],
) -> None:
    a, b = brokers
    await a.enqueue(_job())
    (d,) = await a.fetch(1, 1.0)
    (again,) = await b.fetch(1, 3.0)  # ack wait 1 s: the server hands it on
    assert (again.entry_id, again.attempt) == (d.entry_id, 2)


# -- the worker on NATS -------------------------------------------------------


@pytest.fixture
def sim_factory() -> Iterator[Any]:
    servers: list[EmulatorServer] = []

    def start(**kw: Any) -> EmulatorServer:
        server = EmulatorServer(model="m", port=0, **kw).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    r = await WebhookReceiver(secret=SECRET).start()
    yield r
    await r.stop()


def _doc(
    redis_url: str, upstream: str, nats_section: dict[str, Any], secrets: Path, **extra: Any
) -> dict[str, Any]:
    (secrets / "default").write_bytes(SECRET)
    return runtime_config(redis_url, {"m": upstream}, {
        "broker": "nats", "nats": nats_section, "metricsPort": 0, "claimIdle": "2s",
        "backoff": {"initial": "0.1s", "jitter": 0}, "notifications": {"secretsDir": str(secrets)}, **extra,
    })  # fmt: skip


async def test_job_is_processed_stored_and_announced_signed_when_the_broker_is_nats(
    redis_url: str, nats_section: dict[str, Any], sim_factory: Any, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    sim = sim_factory()
    doc = _doc(redis_url, sim.url, nats_section, tmp_path)
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit({**CHAT, "async": {"webhook": receiver.url}})
        status = await client.wait_finished(job_id)
        (hook,) = await receiver.wait_for(1)
        stored = json.loads(await client.result(job_id) or b"null")
        observer = NatsJetStreamBroker(NatsSettings.model_validate(nats_section), models=["m"])
        await observer.start()
        depth = await observer.depth()
        await observer.close()
    assert status["state"] == "succeeded"
    assert stored["object"] == "chat.completion"
    assert hook.signature_ok and hook.event is not None and hook.event["data"]["result"] == stored
    assert depth["m"] == QueueDepth(lag=0, pending=0)


async def test_job_lands_in_the_dead_letter_stream_after_max_attempts_when_the_model_always_fails(
    redis_url: str, nats_section: dict[str, Any], sim_factory: Any, tmp_path: Path
) -> None:
    sim = sim_factory(fail_rate=1.0, fail_status=500)
    doc = _doc(redis_url, sim.url, nats_section, tmp_path, maxAttempts=3)
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit(CHAT)
        status = await client.wait_finished(job_id)
    assert status["state"] == "failed" and status["attempts"] == 3
    assert sim.state()["requestsTotal"] == 3
    nc = await nats.connect(nats_section["url"])
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            nats_section["deadLetterSubject"], stream=f"{nats_section['stream']}_DLQ"
        )
        (msg,) = await sub.fetch(1, timeout=2)
        record = json.loads(msg.data)
    finally:
        await nc.close()
    assert record["jobId"] == job_id
    assert record["attempts"] == 3
    assert "500" in record["error"]


def test_worker_labels_a_nats_delivery_with_its_model_name_when_the_name_is_not_a_token(
    redis_url: str, nats_section: dict[str, Any], tmp_path: Path
) -> None:
    from llmaz_serverless.config import RuntimeConfig
    from llmaz_serverless.worker.service import WorkerService

    doc = _doc(redis_url, "http://127.0.0.1:9", nats_section, tmp_path)
    doc["models"][0]["name"] = "org/llama-3.1"
    service = WorkerService(RuntimeConfig.model_validate(doc))
    broker = NatsJetStreamBroker(NatsSettings.model_validate(nats_section), models=["org/llama-3.1"])
    assert service._model_of(broker.subject_for("org/llama-3.1")) == "org/llama-3.1"
