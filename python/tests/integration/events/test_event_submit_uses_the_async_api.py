"""An event rule's submit goes through the gateway's own async API: its broker, its metrics.

On NATS every broker is a client connection, so nats-server's /connz counts the brokers the
gateway opened: one, whether jobs come from POST /v1/async or from an event rule.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless_testing.appservers import GatewayServer
from llmaz_serverless_testing.servers import NatsServer
from llmaz_serverless_testing.worker import wait_until_async

pytestmark = pytest.mark.integration

RULE = {
    "name": "upload-finished",
    "pattern": {"type": ["com.example.upload.finished"]},
    "actions": [{"submit": {"model": "batch", "api": "chat", "request": {
        "messages": [{"role": "user", "content": "Summarise ${data.url}"}], "max_tokens": 8}}}],
}  # fmt: skip
SUBMITTED = 'llmaz_serverless_gateway_async_submitted_total{form="inline",model="batch"}'


@pytest.fixture(scope="module")
def nats() -> Iterator[NatsServer]:
    # A server of this module's own: the connection count must be the gateway's alone.
    with NatsServer(monitoring=True) as server:
        yield server


@pytest.fixture
def gw(nats: NatsServer, redis_url: str) -> Iterator[GatewayServer]:
    tag = uuid.uuid4().hex[:8]
    runtime = RuntimeConfig.model_validate(
        {
            "models": [{"name": "batch", "playground": "batch", "upstream": "http://127.0.0.1:9"}],
            "redis": {"url": redis_url},
            "gateway": {"host": "127.0.0.1", "port": 0, "shutdownDelay": 0, "shutdownTimeout": 5,
                        "accessLog": False},
            "queue": {"broker": "nats", "nats": {"url": nats.url, "stream": f"T{tag}",
                                                 "subjectPrefix": f"t{tag}.jobs",
                                                 "deadLetterSubject": f"t{tag}.dead"}},
            "events": {"rules": [RULE]},
        }
    )  # fmt: skip
    server = GatewayServer(runtime, GatewaySettings.load(runtime, environ={}), environ={}).start()
    # The gateway declares its stream and the model's consumer beside serving (a submit before
    # that is a 503 with Retry-After); this test is about what happens once they exist.
    deadline = time.monotonic() + 10
    while not _has_consumer(nats, f"T{tag}") and time.monotonic() < deadline:
        time.sleep(0.05)
    yield server
    server.stop()


def _has_consumer(nats: NatsServer, stream: str) -> bool:
    """True once `stream` exists on the server with at least one consumer (the broker has started)."""
    url = f"http://{nats.monitoring_endpoint}/jsz?consumers=true"
    with urllib.request.urlopen(url, timeout=5) as resp:
        report = json.load(resp)
    streams = [s for a in report.get("account_details", []) for s in a.get("stream_detail", [])]
    return any(s["name"] == stream and s.get("consumer_detail") for s in streams)


def _connections(nats: NatsServer) -> int:
    with urllib.request.urlopen(f"http://{nats.monitoring_endpoint}/connz", timeout=5) as resp:
        return int(json.load(resp)["num_connections"])


async def _metric(http: aiohttp.ClientSession, url: str, name: str) -> float | None:
    async with http.get(f"{url}/metrics") as resp:
        for line in (await resp.text()).splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return None


def _event(event_id: str) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "/test", "type": "com.example.upload.finished",
            "data": {"url": f"s3://in/{event_id}.jsonl"}}  # fmt: skip


async def test_event_jobs_are_counted_in_the_gateway_metrics_and_share_its_one_broker(
    gw: GatewayServer, nats: NatsServer
) -> None:
    async def broker_connected() -> bool | None:
        return _connections(nats) == 1 or None

    await wait_until_async(broker_connected, 10, what="the gateway's broker connected to NATS")
    async with aiohttp.ClientSession() as http:
        job_ids = []
        for event_id in ("up-1", "up-2"):
            headers = {"Content-Type": "application/cloudevents+json"}
            async with http.post(f"{gw.url}/v1/events", json=_event(event_id), headers=headers) as resp:
                assert resp.status == 200, await resp.text()
                [action] = (await resp.json())["events"][0]["actions"]
                job_ids.append(action["jobId"])
        async with http.post(f"{gw.url}/v1/async/chat/completions", json={
            "model": "batch", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
        }) as resp:  # fmt: skip
            assert resp.status == 202, await resp.text()
        submitted = await _metric(http, gw.url, SUBMITTED)
        async with http.get(f"{gw.url}/v1/async/{job_ids[0]}") as resp:
            status = await resp.json()
    assert len(set(job_ids)) == 2
    assert submitted == 3, "two event jobs and one POST /v1/async job, in the gateway's own registry"
    assert status["status"] == "queued"
    assert _connections(nats) == 1, "event submits opened a broker of their own"
