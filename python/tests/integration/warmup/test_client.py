"""The warmup client against a real model-server process (the project's emulator):
slow start, failing first calls, streamed tokens, deadline."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from llmaz_serverless.launcher import free_port
from llmaz_serverless.warmup.client import RetryPolicy, Target, WarmupClient
from llmaz_serverless.warmup.prompts import build_prompts
from llmaz_serverless.warmup.settings import WarmupBackoff

pytestmark = pytest.mark.integration

MODEL = "llama-3-8b"
SHAPES = [(16, 16), (512, 32), (2048, 8)]


async def emulator_state(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/emulator/state") as resp:
        return await resp.json()


def client(attempts: int = 4) -> WarmupClient:
    return WarmupClient(RetryPolicy(attempts=attempts, backoff=WarmupBackoff(initial=0.05, max=0.3)))


async def test_streams_every_prompt_length_and_reads_usage_when_server_is_up(sim):
    server = sim(ttft=0.05, itl=0.002)
    async with client() as c:
        report = await c.warm(Target(server.url, MODEL), "completions", build_prompts(SHAPES, 1), 20)
    assert report.ok and not report.timed_out
    assert [(r.prompt_tokens, r.completion_tokens) for r in report.results] == [
        (16, 16),
        (512, 32),
        (2048, 8),
    ]
    assert all(r.attempts == 1 and r.first_token_s >= 0.05 for r in report.results)
    assert all(r.total_s > r.first_token_s for r in report.results)
    state = await emulator_state(server.url)
    assert state["completedTotal"] == 3


async def test_chat_api_is_streamed_too(sim):
    server = sim(ttft=0.01)
    async with client() as c:
        report = await c.warm(Target(server.url, MODEL), "chat", build_prompts([(32, 4)], 2), 20)
    assert report.ok
    assert report.results[0].completion_tokens == 4


async def test_health_is_awaited_while_server_loads_weights(sim):
    server = sim(startup_delay=1.5, ttft=0.01)
    async with client() as c:
        report = await c.warm(
            Target(server.url, MODEL), "completions", build_prompts(SHAPES[:1], 3), 20, health_path="/health"
        )
    assert report.ok
    assert 1.0 <= report.health_wait_s < 10
    assert report.results[0].attempts == 1  # no request was wasted on a loading server
    assert (await emulator_state(server.url))["rejectedLoadingTotal"] == 0


async def test_requests_are_retried_with_backoff_when_first_calls_fail(sim):
    server = sim(fail_first=2, fail_status=503, ttft=0.01)
    async with client(attempts=4) as c:
        report = await c.warm(Target(server.url, MODEL), "completions", build_prompts(SHAPES[:2], 4), 20)
    assert report.ok
    assert [r.attempts for r in report.results] == [3, 1]
    assert (await emulator_state(server.url))["failedTotal"] == 2


async def test_prompt_fails_after_its_attempts_and_next_prompt_still_runs(sim):
    server = sim(fail_first=2, fail_status=500, ttft=0.01)
    async with client(attempts=2) as c:
        report = await c.warm(Target(server.url, MODEL), "completions", build_prompts(SHAPES[:2], 5), 20)
    assert not report.ok and not report.timed_out
    first, second = report.results
    assert (first.ok, first.attempts, first.status) == (False, 2, 500)
    assert first.error.startswith("gave up after 2 attempt(s); last: HTTP 500")
    assert second.ok


async def test_client_errors_are_not_retried(sim):
    server = sim(ttft=0.01)
    async with client() as c:
        report = await c.warm(
            Target(server.url, "no-such-model"), "completions", build_prompts(SHAPES[:1], 6), 20
        )
    (result,) = report.results
    assert (result.ok, result.attempts, result.status) == (False, 1, 404)
    assert "does not exist" in result.error


async def test_deadline_ends_a_warmup_of_a_server_that_is_too_slow(sim):
    server = sim(ttft=30)
    started = time.monotonic()
    async with client() as c:
        report = await c.warm(Target(server.url, MODEL), "completions", build_prompts(SHAPES, 7), 1.0)
    elapsed = time.monotonic() - started
    assert not report.ok and report.timed_out
    assert elapsed < 5
    assert report.results[0].error.startswith("deadline reached after 1 attempt(s)")
    assert [r.error for r in report.results[1:]] == ["not attempted: deadline reached"] * 2
    assert "(deadline reached)" in report.summary()


async def test_connection_refused_is_retried_until_the_process_listens(sim):
    port = free_port()

    async def start_late() -> None:
        await asyncio.sleep(0.8)
        sim(port=port, wait=False, ttft=0.01)

    async with client(attempts=200) as c:  # bounded by the 20 s deadline
        starter = asyncio.create_task(start_late())
        report = await c.warm(
            Target(f"http://127.0.0.1:{port}", MODEL), "completions", build_prompts(SHAPES[:1], 8), 20
        )
        await starter
    assert report.ok
    assert report.results[0].attempts > 1
    assert report.first_token_s >= 0.8


async def test_stream_cut_off_before_done_is_retried(sim):
    """A stream that ends without [DONE] (server killed mid-answer) is not a finished warmup."""
    server = sim(ttft=0.01, itl=0.5)
    async with client(attempts=1) as c:
        task = asyncio.create_task(
            c.warm(Target(server.url, MODEL), "completions", build_prompts([(16, 40)], 9), 20)
        )
        await asyncio.sleep(1.0)
        server.proc.kill()
        report = await asyncio.wait_for(task, 10)
    (result,) = report.results
    assert not result.ok
    assert "ended before [DONE]" in result.error or "ClientPayloadError" in result.error
