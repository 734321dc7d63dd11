"""Event rules inside the real gateway (GatewayServer): auth, the public KEDA endpoint, metrics,
and a submit action queued once on the real async path (Redis Streams) despite redelivery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless.queue.job import Job
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless_testing.appservers import GatewayServer

pytestmark = pytest.mark.integration

KEY = "k-events"
RULES: list[dict[str, Any]] = [
    {
        "name": "chat-ui-opened",
        "pattern": {"type": ["com.example.chat.session.opened"]},
        "actions": [{"prewarm": {"models": ["chat-8b"], "replicas": 1, "window": "10m"}}],
    },
    {
        "name": "nightly-upload",
        "pattern": {"type": ["com.example.upload.finished"], "data": {"size": [{"anythingBut": [0]}]}},
        "actions": [
            {
                "submit": {
                    "model": "batch",
                    "api": "chat",
                    "request": {
                        "messages": [{"role": "user", "content": "Summarise ${data.url}"}],
                        "max_tokens": 32,
                    },
                }
            }
        ],
    },
]


def _model(name: str) -> dict[str, Any]:
    # The upstream is never called by these tests: events only touch Redis.
    return {"name": name, "playground": name, "upstream": "http://127.0.0.1:9"}


@pytest.fixture
def gw(redis_url: str) -> Iterator[GatewayServer]:
    runtime = RuntimeConfig.model_validate(
        {
            "models": [_model("chat-8b"), _model("batch")],
            "redis": {"url": redis_url},
            "gateway": {"host": "127.0.0.1", "port": 0, "shutdownDelay": 0, "shutdownTimeout": 5,
                        "accessLog": False, "auth": {"enabled": True}},
            "events": {"rules": RULES},
        }
    )  # fmt: skip
    environ = {"LLMAZ_SERVERLESS_API_KEYS": KEY}
    server = GatewayServer(runtime, GatewaySettings.load(runtime, environ={}), environ=environ).start()
    yield server
    server.stop()


def _event(event_id: str, event_type: str, **data: Any) -> bytes:
    return json.dumps(
        {"specversion": "1.0", "id": event_id, "source": "/test", "type": event_type, "data": data}
    ).encode()


STRUCTURED = {"Content-Type": "application/cloudevents+json"}
AUTH = {"Authorization": f"Bearer {KEY}"}


async def test_events_need_the_api_key_and_the_keda_endpoint_does_not(gw):
    body = _event("e-1", "com.example.chat.session.opened")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw.url}/v1/events", data=body, headers=STRUCTURED) as resp:
            assert resp.status == 401
        async with http.get(f"{gw.url}/v1/prewarm/chat-8b") as resp:
            assert resp.status == 200
            assert (await resp.json())["replicas"] == 0
        async with http.post(f"{gw.url}/v1/events", data=body, headers={**STRUCTURED, **AUTH}) as resp:
            assert resp.status == 200, await resp.text()
        async with http.get(f"{gw.url}/v1/prewarm/chat-8b") as resp:
            assert (await resp.json())["replicas"] == 1
        async with http.get(f"{gw.url}/metrics") as resp:
            text = await resp.text()
    assert 'llmaz_serverless_events_received_total{mode="structured"} 1.0' in text
    assert 'llmaz_serverless_events_matched_total{rule="chat-ui-opened"} 1.0' in text
    assert 'llmaz_serverless_events_prewarm_windows_active{model="chat-8b"} 1.0' in text


async def test_redelivered_upload_event_queues_one_job_on_the_async_path(gw, redis_url):
    body = _event("up-1", "com.example.upload.finished", url="s3://in/1.jsonl", size=10)
    async with aiohttp.ClientSession() as http:
        job_ids = []
        for _ in range(3):
            async with http.post(f"{gw.url}/v1/events", data=body, headers={**STRUCTURED, **AUTH}) as resp:
                assert resp.status == 200, await resp.text()
                [action] = (await resp.json())["events"][0]["actions"]
                job_ids.append(action["jobId"])
    assert len(set(job_ids)) == 1
    stream = QueueSettings().stream_for("batch")
    client = aioredis.Redis.from_url(redis_url)
    entries = await client.xrange(stream)
    await client.aclose()
    assert len(entries) == 1
    job = Job.decode(entries[0][1][b"job"])
    assert job.id == job_ids[0]
    assert job.api == "chat"
    assert json.loads(job.body or "{}")["messages"] == [
        {"role": "user", "content": "Summarise s3://in/1.jsonl"}
    ]
    assert job.extra["eventId"] == "up-1"
    assert job.tenant == "default", (
        "rules submit as the worker's default tenant unless submitTenant says otherwise"
    )


async def test_upload_of_size_zero_matches_no_rule(gw, redis_url):
    body = _event("up-0", "com.example.upload.finished", url="s3://in/empty", size=0)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/v1/events", data=body, headers={**STRUCTURED, **AUTH}) as resp,
    ):
        assert (await resp.json())["events"][0]["matched"] == []
    client = aioredis.Redis.from_url(redis_url)
    # No job queued (the stream itself exists from the gateway's start, empty).
    assert await client.xlen(QueueSettings().stream_for("batch")) == 0
    await client.aclose()


async def test_job_the_async_api_refuses_is_a_permanent_failure_not_a_503(redis_url):
    rules = [
        {
            "name": "bad",
            "pattern": {"type": ["x"]},
            "actions": [{"submit": {"model": "batch", "request": {"messages": "${data.text}"}}}],
        }
    ]
    runtime = RuntimeConfig.model_validate(
        {
            "models": [_model("batch")],
            "redis": {"url": redis_url},
            "gateway": {
                "host": "127.0.0.1",
                "port": 0,
                "shutdownDelay": 0,
                "shutdownTimeout": 5,
                "accessLog": False,
            },
            "events": {"rules": rules},
        }
    )
    server = GatewayServer(runtime, GatewaySettings.load(runtime, environ={}), environ={}).start()
    try:
        async with aiohttp.ClientSession() as http:
            body = _event("b-1", "x", text="not a list of messages")
            async with http.post(f"{server.url}/v1/events", data=body, headers=STRUCTURED) as resp:
                assert resp.status == 200
                [action] = (await resp.json())["events"][0]["actions"]
        assert action["status"] == "failed"
        assert "the async API refused the job: messages" in action["error"]
    finally:
        server.stop()


async def test_gateway_reads_events_from_the_redis_stream_when_enabled(redis_url):
    runtime = RuntimeConfig.model_validate(
        {
            "models": [_model("chat-8b")],
            "redis": {"url": redis_url},
            "gateway": {
                "host": "127.0.0.1",
                "port": 0,
                "shutdownDelay": 0,
                "shutdownTimeout": 5,
                "accessLog": False,
            },
            "events": {"rules": RULES[:1], "stream": {"enabled": True, "name": "t:ev", "block": "100ms"}},
        }
    )
    server = GatewayServer(runtime, GatewaySettings.load(runtime, environ={}), environ={}).start()
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.xadd("t:ev", {"event": _event("st-1", "com.example.chat.session.opened")})
        replicas = 0
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # bounded: 5 s at most
                async with http.get(f"{server.url}/v1/prewarm/chat-8b") as resp:
                    replicas = (await resp.json())["replicas"]
                if replicas:
                    break
                await asyncio.sleep(0.1)
        assert replicas == 1
    finally:
        await client.aclose()
        server.stop()
