"""SIGTERM on a real worker process: finish in-flight jobs, take no new ones, hand back the rest."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from llmaz_serverless_testing.appservers import EmulatorServer
from llmaz_serverless_testing.worker import (
    Client,
    start_worker_process,
    wait_until_async,
    write_runtime_config,
)

pytestmark = pytest.mark.integration

SLOW = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 30}


async def _running(client: Client, job_id: str) -> bool:
    status = await client.status.get(job_id)
    return bool(status and status.get("state") == "running")


async def _group(redis_url: str, stream: str) -> dict[str, Any]:
    r = aioredis.Redis.from_url(redis_url)
    try:
        (group,) = await r.xinfo_groups(stream)
        return group
    finally:
        await r.aclose()


def _stop(proc: subprocess.Popen[bytes], within: float) -> int:
    try:
        return proc.wait(timeout=within)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_in_flight_job_finishes_and_no_new_job_starts_when_sigterm_arrives(
    emulator: Callable[..., EmulatorServer],
    document: Callable[..., dict[str, Any]],
    tmp_path: Path,
    redis_url: str,
) -> None:
    sim = emulator(ttft=0.1, itl=0.05)  # ~1.6 s per job
    doc = document(sim.url, drainTimeout="20s", claimIdle="30s")
    config = write_runtime_config(tmp_path / "runtime.yaml", doc)
    async with Client(doc) as client:
        a = start_worker_process(config, "worker-a", log_path=tmp_path / "a.log")
        b = None
        try:
            first = await client.submit(SLOW)
            await wait_until_async(lambda: _running(client, first), 20, what="job running")
            a.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            second = await client.submit(SLOW)  # arrives while worker-a drains
            t0 = time.monotonic()
            code = await asyncio.to_thread(_stop, a, 20)
            drained_in = time.monotonic() - t0
            status = await client.status.get(first)
            untouched = await client.status.get(second)
            group = await _group(redis_url, client.settings.stream_for("m"))
            # Whatever worker-a's last blocking read picked up was handed back, not started:
            # the next worker gets it at once although claimIdle is 30 s.
            b = start_worker_process(config, "worker-b", log_path=tmp_path / "b.log")
            later = await client.wait_finished(second, within=20)
        finally:
            for proc in (a, b):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()

    assert code == 0, (tmp_path / "a.log").read_text()
    assert status is not None and status["state"] == "succeeded" and status["worker"] == "worker-a"
    assert drained_in < 10
    assert untouched is not None and untouched["state"] == "queued"
    assert group["pending"] + group["lag"] == 1  # still queued: pending (handed back) or undelivered
    assert later["worker"] == "worker-b" and later["attempts"] == 1
    assert sim.state()["requestsTotal"] == 2  # worker-a never called the model for the second job


async def test_unfinished_job_goes_to_another_worker_keeping_its_attempt_when_drain_times_out(
    emulator: Callable[..., EmulatorServer],
    document: Callable[..., dict[str, Any]],
    tmp_path: Path,
    redis_url: str,
) -> None:
    sim = emulator(ttft=0.1, itl=0.1)  # ~3 s per job, longer than the drain budget
    doc = document(sim.url, drainTimeout="0.5s", claimIdle="30s")
    config = write_runtime_config(tmp_path / "runtime.yaml", doc)
    async with Client(doc) as client:
        a = start_worker_process(config, "worker-a", log_path=tmp_path / "a.log")
        b = None
        try:
            job_id = await client.submit(SLOW)
            await wait_until_async(lambda: _running(client, job_id), 20, what="job running")
            a.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(_stop, a, 10)
            handed_back = await _group(redis_url, client.settings.stream_for("m"))
            # claimIdle is 30 s: only the hand-back lets worker-b take it at once.
            b = start_worker_process(config, "worker-b", log_path=tmp_path / "b.log")
            status = await client.wait_finished(job_id, within=20)
        finally:
            for proc in (a, b):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()

    assert code == 0, (tmp_path / "a.log").read_text()
    assert handed_back["pending"] == 1
    assert status["state"] == "succeeded" and status["worker"] == "worker-b"
    assert status["attempts"] == 1
