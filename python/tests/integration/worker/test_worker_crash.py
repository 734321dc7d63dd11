"""At-least-once delivery, exactly-once results: real worker processes killed and frozen mid-job."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from llmaz_serverless_testing.appservers import EmulatorServer
from llmaz_serverless_testing.worker import (
    Client,
    WebhookReceiver,
    start_worker_process,
    wait_until_async,
    write_runtime_config,
)

pytestmark = pytest.mark.integration

# ~2 s of generation: long enough to act on a worker while its model call is in flight.
SLOW = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 40}


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[Path, str], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(config: Path, name: str) -> subprocess.Popen[bytes]:
        proc = start_worker_process(config, name, log_path=tmp_path / f"{name}.log")
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        proc.wait(timeout=10)


async def _running_on(client: Client, job_id: str, worker: str) -> bool:
    status = await client.status.get(job_id)
    return bool(status and status.get("state") == "running" and status.get("worker") == worker)


async def _pending(redis_url: str, stream: str) -> int:
    r = aioredis.Redis.from_url(redis_url)
    try:
        return int((await r.xpending(stream, "workers"))["pending"])
    finally:
        await r.aclose()


async def test_job_completes_once_on_another_worker_when_its_worker_is_killed_mid_request(
    emulator: Callable[..., EmulatorServer], document: Callable[..., dict[str, Any]],
    receiver: WebhookReceiver, workers: Callable[[Path, str], subprocess.Popen[bytes]],
    tmp_path: Path, redis_url: str,
) -> None:  # fmt: skip
    sim = emulator(ttft=0.1, itl=0.05)
    doc = document(sim.url)
    config = write_runtime_config(tmp_path / "runtime.yaml", doc)
    async with Client(doc) as client:
        a = workers(config, "worker-a")
        job_id = await client.submit({**SLOW, "async": {"webhook": receiver.url}})
        await wait_until_async(
            lambda: _running_on(client, job_id, "worker-a"), 20, what="worker-a running the job"
        )
        await wait_until_async(lambda: _true(sim.state()["running"] == 1), 5, what="model call in flight")
        a.kill()  # SIGKILL: no drain, no hand-back; the entry stays pending on worker-a
        a.wait(timeout=10)
        workers(config, "worker-b")
        status = await client.wait_finished(job_id, within=30)
        await receiver.wait_for(1)
        await asyncio.sleep(1.0)  # room for a wrong second completion or notification to show up
        final = await client.status.get(job_id)
        assert await client.result(job_id) is not None

    assert status["state"] == "succeeded"
    assert final is not None
    assert final["worker"] == "worker-b"
    assert final["attempts"] == 2  # the killed attempt counts
    assert final["commits"] == 1 and "duplicateCompletions" not in final
    assert sim.state()["requestsTotal"] == 2  # the model really ran it twice...
    assert len(receiver.received) == 1  # ...but one result and one notification exist
    assert await _pending(redis_url, client.settings.stream_for("m")) == 0


async def test_late_finisher_does_not_overwrite_the_result_when_a_frozen_worker_resumes(
    emulator: Callable[..., EmulatorServer], document: Callable[..., dict[str, Any]],
    receiver: WebhookReceiver, workers: Callable[[Path, str], subprocess.Popen[bytes]], tmp_path: Path,
) -> None:  # fmt: skip
    sim = emulator(ttft=0.1, itl=0.05)
    doc = document(sim.url)
    config = write_runtime_config(tmp_path / "runtime.yaml", doc)
    async with Client(doc) as client:
        a = workers(config, "worker-a")
        job_id = await client.submit({**SLOW, "async": {"webhook": receiver.url}})
        await wait_until_async(
            lambda: _running_on(client, job_id, "worker-a"), 20, what="worker-a running the job"
        )
        os.kill(a.pid, signal.SIGSTOP)  # alive but silent: stops renewing, like a stalled pod
        workers(config, "worker-b")
        status = await client.wait_finished(job_id, within=30)
        result_of_b = await client.result(job_id)
        os.kill(a.pid, signal.SIGCONT)  # worker-a finishes its stale attempt

        async def duplicate_seen() -> bool:
            s = await client.status.get(job_id)
            return bool(s and s.get("duplicateCompletions") == 1)

        await wait_until_async(duplicate_seen, 20, what="worker-a's late completion")
        await receiver.wait_for(1)
        await asyncio.sleep(0.5)
        final = await client.status.get(job_id)
        assert await client.result(job_id) == result_of_b

    assert status["state"] == "succeeded" and status["worker"] == "worker-b"
    assert final is not None and final["commits"] == 1
    assert final["worker"] == "worker-b"
    assert len(receiver.received) == 1


async def _true(value: bool) -> bool:
    return value
