"""POST /v1/events and GET /v1/prewarm/<model> over real HTTP on loopback, with a real Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cloudevents.core.bindings.http import to_binary_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent
from prometheus_client import CollectorRegistry
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from llmaz_serverless.events.metrics import EventMetrics
from llmaz_serverless.events.prewarm import PrewarmStore
from llmaz_serverless.events.settings import EventsSettings
from llmaz_serverless.events.submit import JobRequest
from llmaz_serverless.gateway.events_api import EventsApi, lifecycle

pytestmark = pytest.mark.integration

RULES: list[dict[str, Any]] = [
    {
        "name": "chat-ui-opened",
        "pattern": {"type": ["com.example.chat.session.opened"], "data": {"model": ["chat-8b"]}},
        "actions": [{"prewarm": {"models": ["chat-8b"], "replicas": 2, "window": "1s"}}],
    },
    {
        "name": "nightly-upload",
        "pattern": {"type": ["com.example.upload.finished"], "source": [{"prefix": "/uploads/"}]},
        "actions": [
            {"prewarm": {"models": ["batch-70b"], "window": "1s"}},
            {
                "submit": {
                    "model": "batch-70b",
                    "request": {"messages": [{"role": "user", "content": "${data.url}"}]},
                }
            },
        ],
    },
]


def opened(event_id: str = "s-1", model: str = "chat-8b") -> CloudEvent:
    return CloudEvent(
        {"type": "com.example.chat.session.opened", "source": "/chat-ui", "id": event_id},
        {"model": model},
    )


def upload(event_id: str) -> CloudEvent:
    return CloudEvent(
        {
            "type": "com.example.upload.finished",
            "source": "/uploads/eu",
            "id": event_id,
            "datacontenttype": "application/json",
        },
        {"url": f"s3://in/{event_id}.jsonl"},
    )


class Harness:
    def __init__(
        self, client: TestClient, api: EventsApi, redis: aioredis.Redis, metrics: EventMetrics
    ) -> None:
        self.client = client
        self.api = api
        self.redis = redis
        self.metrics = metrics

    async def floor(self, model: str) -> int:
        resp = await self.client.get(f"/v1/prewarm/{model}")
        assert resp.status == 200, await resp.text()
        return (await resp.json())["replicas"]


async def start(redis_url: str, **settings: Any) -> tuple[Harness, TestClient]:
    redis = aioredis.Redis.from_url(redis_url)
    metrics = EventMetrics(CollectorRegistry())
    config = EventsSettings.model_validate({"rules": RULES, "keyPrefix": "t:", **settings})

    async def enqueue(job: JobRequest) -> str:
        await redis.xadd("t:jobs", {"job": json.dumps({"id": job.job_id, "body": job.body})})
        return job.job_id

    api = EventsApi(config, metrics, {"chat-8b", "batch-70b"})
    app = web.Application()
    api.add_routes(app)
    app.cleanup_ctx.append(lifecycle(api, lambda: redis, enqueue))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return Harness(client, api, redis, metrics), client


@pytest.fixture
async def h(redis_url) -> AsyncIterator[Harness]:
    harness, client = await start(redis_url)
    yield harness
    await client.close()
    await harness.redis.aclose()


async def test_structured_event_opens_a_prewarm_window_keda_reads(h):
    assert await h.floor("chat-8b") == 0
    msg = to_structured_event(opened())
    resp = await h.client.post("/v1/events", data=msg.body, headers=msg.headers)
    assert resp.status == 200
    body = await resp.json()
    assert body["events"][0]["matched"] == ["chat-ui-opened"]
    assert body["events"][0]["actions"][0]["status"] == "ok"
    assert await h.floor("chat-8b") == 2
    assert await h.floor("batch-70b") == 0


async def test_binary_event_is_accepted_like_a_structured_one(h):
    event = opened("b-1")
    event.get_attributes()["datacontenttype"] = "application/json"
    msg = to_binary_event(event)
    resp = await h.client.post("/v1/events", data=msg.body, headers=msg.headers)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["events"][0]["matched"] == ["chat-ui-opened"]
    assert await h.floor("chat-8b") == 2
    assert h.metrics.received.labels("binary")._value.get() == 1


async def test_prewarm_window_starts_extends_and_expires_through_the_keda_endpoint(h):
    async def send(i: int) -> None:
        msg = to_structured_event(opened(f"w-{i}"))
        assert (await h.client.post("/v1/events", data=msg.body, headers=msg.headers)).status == 200

    await send(1)  # start: window of 1s
    assert await h.floor("chat-8b") == 2
    await asyncio.sleep(0.6)
    await send(2)  # extend: the window now ends 1s after this event
    await asyncio.sleep(0.6)  # 1.2s after the first event: only the extension keeps it open
    assert await h.floor("chat-8b") == 2
    resp = await h.client.get("/v1/prewarm/chat-8b")
    [window] = (await resp.json())["windows"]
    assert window["rule"] == "chat-ui-opened"
    assert 0 < window["remainingSeconds"] <= 0.5
    await asyncio.sleep(0.6)  # expire
    assert await h.floor("chat-8b") == 0
    assert await h.redis.exists("t:prewarm:chat-8b") == 0
    assert h.metrics.prewarm_windows.labels("chat-8b")._value.get() == 0


async def test_batch_runs_every_event_and_submits_each_upload_once(h):
    events = [upload("u-1"), upload("u-2"), opened("s-9"), upload("u-1")]  # u-1 delivered twice
    body = json.dumps([json.loads(to_structured_event(e).body) for e in events]).encode()
    resp = await h.client.post(
        "/v1/events", data=body, headers={"Content-Type": "application/cloudevents-batch+json"}
    )
    assert resp.status == 200
    results = (await resp.json())["events"]
    assert [r["matched"] for r in results] == [
        ["nightly-upload"],
        ["nightly-upload"],
        ["chat-ui-opened"],
        ["nightly-upload"],
    ]
    statuses = [[a["status"] for a in r["actions"]] for r in results]
    assert statuses == [["ok", "ok"], ["ok", "ok"], ["ok"], ["ok", "duplicate"]]
    assert await h.redis.xlen("t:jobs") == 2
    assert await h.floor("batch-70b") == 1
    assert h.metrics.received.labels("batch")._value.get() == 4
    assert h.metrics.matched.labels("nightly-upload")._value.get() == 3


async def test_redelivery_of_a_single_event_over_http_submits_once(h):
    msg = to_structured_event(upload("u-7"))
    for _ in range(3):
        assert (await h.client.post("/v1/events", data=msg.body, headers=msg.headers)).status == 200
    assert await h.redis.xlen("t:jobs") == 1


async def test_event_matching_no_rule_is_accepted_and_does_nothing(h):
    msg = to_structured_event(opened("n-1", model="other-model"))
    resp = await h.client.post("/v1/events", data=msg.body, headers=msg.headers)
    assert resp.status == 200
    assert (await resp.json())["events"][0] == {
        "id": "n-1",
        "source": "/chat-ui",
        "type": "com.example.chat.session.opened",
        "matched": [],
        "actions": [],
    }


@pytest.mark.parametrize(
    ("headers", "body", "status", "reason"),
    [
        ({"Content-Type": "application/json"}, b'{"hello": 1}', 415, "not_cloudevent"),
        ({"Content-Type": "application/cloudevents+json"}, b"{nope", 400, "bad_json"),
        (
            {"Content-Type": "application/cloudevents+json"},
            b'{"specversion":"1.0","source":"/s","type":"t"}',
            400,
            "not_cloudevent",
        ),
        (
            {"Content-Type": "application/cloudevents+json"},
            b'{"specversion":"1.0","id":"x","source":"/s","type":"t","data":"' + b"x" * 5000 + b'"}',
            413,
            "too_large",
        ),
        (
            {"Content-Type": "application/cloudevents-batch+json"},
            json.dumps(
                [{"specversion": "1.0", "id": str(i), "source": "/s", "type": "t"} for i in range(3)]
            ).encode(),
            413,
            "batch_too_large",
        ),
    ],
)
async def test_bad_request_gets_a_4xx_with_a_clear_message_is_counted_and_runs_nothing(
    redis_url, headers, body, status, reason
):
    harness, client = await start(redis_url, maxBodyBytes=4096, maxBatchEvents=2)
    try:
        resp = await client.post("/v1/events", data=body, headers=headers)
        assert resp.status == status
        error = (await resp.json())["error"]
        assert error["code"] == reason
        assert error["type"] == "invalid_event_error"
        assert len(error["message"]) > 20
        assert harness.metrics.rejected.labels(reason)._value.get() == 1
        assert harness.metrics.received.labels("structured")._value.get() == 0
        assert await harness.redis.dbsize() == 0
        # Nothing else is affected: a good event right after still works.
        msg = to_structured_event(opened("after"))
        assert (await client.post("/v1/events", data=msg.body, headers=msg.headers)).status == 200
    finally:
        await client.close()
        await harness.redis.aclose()


async def test_batch_with_one_bad_event_runs_none_of_it(h):
    good = json.loads(to_structured_event(upload("g-1")).body)
    body = json.dumps([good, {"specversion": "1.0", "source": "/s", "type": "t"}]).encode()
    resp = await h.client.post(
        "/v1/events", data=body, headers={"Content-Type": "application/cloudevents-batch+json"}
    )
    assert resp.status == 400
    assert "batch event [1]" in (await resp.json())["error"]["message"]
    assert await h.redis.exists("t:jobs") == 0


async def test_prewarm_endpoint_refuses_unknown_models_with_404(h):
    resp = await h.client.get("/v1/prewarm/ghost")
    assert resp.status == 404
    assert "known: batch-70b, chat-8b" in (await resp.json())["error"]["message"]


async def test_prewarm_listing_shows_every_rule_model(h):
    msg = to_structured_event(opened("l-1"))
    await h.client.post("/v1/events", data=msg.body, headers=msg.headers)
    resp = await h.client.get("/v1/prewarm")
    models = {m["model"]: m["replicas"] for m in (await resp.json())["models"]}
    assert models == {"batch-70b": 0, "chat-8b": 2}


async def test_redis_down_answers_503_so_the_producer_redelivers(redis_url):
    harness, client = await start(redis_url)
    try:
        # Nothing listens on port 1; no client-side retries, so the test stays fast.
        dead = aioredis.Redis(
            host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
        )

        harness.api.bind(PrewarmStore(dead, "t:"), None)
        msg = to_structured_event(opened("r-1"))
        resp = await client.post("/v1/events", data=msg.body, headers=msg.headers)
        assert resp.status == 503
        assert resp.headers["Retry-After"]
        action = (await resp.json())["events"][0]["actions"][0]
        assert action["status"] == "failed"
        assert (await client.get("/v1/prewarm/chat-8b")).status == 503
        await dead.aclose()
    finally:
        await client.close()
        await harness.redis.aclose()
