"""The async API through the real gateway (all route modules, middleware, auth) with a real worker."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless_testing.appservers import EmulatorServer, GatewayServer
from llmaz_serverless_testing.worker import running_worker, wait_until_async

pytestmark = pytest.mark.integration

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}
KEY = {"Authorization": "Bearer k1"}


@pytest.fixture
def stack(
    redis_url: str, emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> Iterator[Callable[..., tuple[GatewayServer, dict[str, Any]]]]:
    """Gateway (API keys on) + emulator; returns the gateway and the runtime document for a worker."""
    started: list[GatewayServer] = []

    def start(gateway: dict[str, Any] | None = None, **queue: Any) -> tuple[GatewayServer, dict[str, Any]]:
        sim = emulator(model="m")
        document = {
            "models": [{"name": "m", "playground": "m", "upstream": sim.url}],
            "redis": {"url": redis_url},
            "gateway": {
                "host": "127.0.0.1", "port": 0, "shutdownDelay": 0, "shutdownTimeout": 5, "accessLog": False,
                "auth": {"enabled": True}, **(gateway or {}),
            },
            "worker": {"metricsPort": 0},
            "queue": {"objectStore": {"type": "filesystem", "root": str(tmp_path / "pvc")}, **queue},
        }  # fmt: skip
        runtime = RuntimeConfig.model_validate(document)
        settings = GatewaySettings.load(runtime, environ={})
        server = GatewayServer(runtime, settings, environ={"LLMAZ_SERVERLESS_API_KEYS": "k1"}).start()
        started.append(server)
        return server, document

    yield start
    for server in started:
        server.stop()


async def test_every_stream_and_group_keda_reads_exist_before_the_first_job_when_the_gateway_starts(
    stack: Any, redis_url: str
) -> None:
    # KEDA's lag trigger reads the group; without it, it errors (NOGROUP) while all is at zero.
    import redis.asyncio as aioredis

    from llmaz_serverless.queue.settings import QueueSettings

    _, document = stack()
    settings = QueueSettings.load(RuntimeConfig.model_validate(document), environ={})
    client = aioredis.from_url(redis_url)

    async def groups() -> dict[str, list[bytes]] | None:
        # The gateway creates them beside its start (it serves even while Redis is down).
        found = {}
        for stream in (settings.stream_for("m"), settings.notify_stream):
            try:
                found[stream] = [g["name"] for g in await client.xinfo_groups(stream)]
            except aioredis.ResponseError:
                return None
        return found

    try:
        found = await wait_until_async(groups, within=10, what="the groups KEDA reads")
    finally:
        await client.aclose()
    group = settings.consumer_group.encode()
    assert found == {settings.stream_for("m"): [group], settings.notify_stream: [group]}


async def _finished(session: aiohttp.ClientSession, url: str) -> dict[str, Any] | None:
    async with session.get(url, headers=KEY) as resp:
        body = await resp.json()
    return body if body.get("status") in ("succeeded", "failed") else None


async def test_job_is_accepted_with_202_and_its_result_served_when_the_worker_finishes(stack: Any) -> None:
    gw, doc = stack()
    async with aiohttp.ClientSession() as session, running_worker(doc):
        async with session.post(f"{gw.url}/v1/async/chat/completions", json=CHAT, headers=KEY) as resp:
            accepted = await resp.json()
            assert resp.status == 202
            assert resp.headers["Location"] == f"/v1/async/{accepted['id']}"
            assert resp.headers["X-Request-Id"]
        assert accepted["status"] == "queued" and accepted["object"] == "async.job"
        done = await wait_until_async(lambda: _finished(session, gw.url + accepted["statusUrl"]), 15)
        async with session.get(gw.url + accepted["resultUrl"], headers=KEY) as resp:
            assert resp.status == 200
            result = await resp.json()
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert done["result"] == result
    assert result["object"] == "chat.completion"
    assert done["resultLocation"]["store"] == "redis"


async def test_completions_route_queues_the_completions_api_when_posted(stack: Any) -> None:
    gw, doc = stack()
    async with aiohttp.ClientSession() as session, running_worker(doc):
        body = {"model": "m", "prompt": "once upon", "max_tokens": 3}
        async with session.post(f"{gw.url}/v1/async/completions", json=body, headers=KEY) as resp:
            accepted = await resp.json()
        done = await wait_until_async(lambda: _finished(session, gw.url + accepted["statusUrl"]), 15)
    assert done["result"]["object"] == "text_completion"


@pytest.mark.parametrize(
    "raw, status, param, code",
    [
        (b"{not json", 400, None, "invalid_json"),
        (json.dumps({"model": "m"}).encode(), 400, "messages", "invalid_value"),
        (json.dumps({**CHAT, "stream": True}).encode(), 400, "stream", "invalid_value"),
        (json.dumps({**CHAT, "model": "gpt-9"}).encode(), 404, "model", "model_not_found"),
        (
            json.dumps({**CHAT, "async": {"webhook": "not a url"}}).encode(),
            400,
            "async.webhook",
            "invalid_value",
        ),
        (
            json.dumps({**CHAT, "messages": [{"role": "user"}]}).encode(),
            400,
            "messages[0].content",
            "invalid_value",
        ),
    ],
)
async def test_bad_body_is_refused_in_openai_error_shape_naming_the_field_when_submitted(
    stack: Any, raw: bytes, status: int, param: str | None, code: str
) -> None:
    gw, _ = stack()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gw.url}/v1/async/chat/completions", data=raw, headers=KEY) as resp,
    ):
        body = await resp.json()
    assert resp.status == status
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["param"] == param and body["error"]["code"] == code
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"]


async def test_async_routes_require_the_api_key_when_auth_is_enabled(stack: Any) -> None:
    gw, _ = stack()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gw.url}/v1/async/chat/completions", json=CHAT) as resp,
    ):
        assert resp.status == 401


async def test_large_upload_streams_past_the_body_limit_and_runs_by_reference_when_posted_to_payloads(
    stack: Any,
) -> None:
    gw, doc = stack(gateway={"maxBodyBytes": 65536}, payloads={"inlineMaxBytes": 4096})
    payload = json.dumps({**CHAT, "messages": [{"role": "user", "content": "word " * 60_000}]}).encode()
    assert len(payload) > 65536 * 4
    async with aiohttp.ClientSession() as session, running_worker(doc):
        async with session.post(f"{gw.url}/v1/async/payloads", data=payload, headers=KEY) as resp:
            uploaded = await resp.json()
            assert resp.status == 201, uploaded
        assert uploaded["bytes"] == len(payload)
        submit = {"model": "m", "async": {"inputLocation": uploaded["inputLocation"]}}
        async with session.post(f"{gw.url}/v1/async/chat/completions", json=submit, headers=KEY) as resp:
            accepted = await resp.json()
            assert resp.status == 202, accepted
        done = await wait_until_async(lambda: _finished(session, gw.url + accepted["statusUrl"]), 15)
    assert done["status"] == "succeeded"
    assert done["result"]["usage"]["prompt_tokens"] >= 60_000
    assert accepted["inputBytes"] == len(payload)


async def test_job_is_invisible_to_other_tenants_when_a_trusted_tenant_header_is_configured(
    stack: Any,
) -> None:
    gw, _ = stack(notifications={"tenantHeader": "X-Tenant"})
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{gw.url}/v1/async/chat/completions", json=CHAT, headers={**KEY, "X-Tenant": "acme"}
        ) as resp:
            accepted = await resp.json()
        async with session.get(gw.url + accepted["statusUrl"], headers={**KEY, "X-Tenant": "globex"}) as resp:
            other = (resp.status, await resp.json())
        async with session.get(gw.url + accepted["statusUrl"], headers={**KEY, "X-Tenant": "acme"}) as resp:
            own = (resp.status, await resp.json())
    assert other[0] == 404 and other[1]["error"]["code"] == "job_not_found"
    assert own[0] == 200 and own[1]["status"] == "queued"


async def test_unknown_job_is_404_and_unfinished_result_is_409_when_requested(stack: Any) -> None:
    gw, _ = stack()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{gw.url}/v1/async/async-nope", headers=KEY) as resp:
            missing = (resp.status, await resp.json())
        async with session.post(f"{gw.url}/v1/async/chat/completions", json=CHAT, headers=KEY) as resp:
            accepted = await resp.json()
        async with session.get(gw.url + accepted["resultUrl"], headers=KEY) as resp:
            early = (resp.status, await resp.json())
    assert missing[0] == 404 and missing[1]["error"]["param"] == "id"
    assert early[0] == 409 and early[1]["error"]["code"] == "result_not_ready"
    assert "'queued'" in early[1]["error"]["message"]


async def test_the_gateway_keeps_creating_the_groups_until_redis_answers(redis_url: str) -> None:
    # A Redis that refuses connections at first: the declaration retries instead of giving up.
    import asyncio

    import redis.asyncio as aioredis

    from llmaz_serverless.backoff import Backoff
    from llmaz_serverless.gateway.async_api import declare_streams
    from llmaz_serverless.queue import build_broker
    from llmaz_serverless.queue.settings import QueueSettings

    settings = QueueSettings()
    real = aioredis.from_url(redis_url)
    calls = {"n": 0}

    class FlakyBroker:
        async def start(self) -> None:
            calls["n"] += 1
            if calls["n"] < 3:
                raise ConnectionError("connection refused")
            await build_broker(settings, real, consumer="gateway", models=["m"]).start()

    try:
        await asyncio.wait_for(
            declare_streams(FlakyBroker(), real, settings, Backoff(initial=0.01, max=0.05)),
            timeout=10,
        )  # type: ignore[arg-type]
        groups = await real.xinfo_groups(settings.stream_for("m"))
    finally:
        await real.aclose()
    assert calls["n"] == 3
    assert [g["name"] for g in groups] == [settings.consumer_group.encode()]


async def test_empty_upload_is_refused_with_400_and_leaves_no_object(stack: Any, tmp_path: Path) -> None:
    gw, _ = stack()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gw.url}/v1/async/payloads", data=b"", headers=KEY) as resp,
    ):
        body = (resp.status, await resp.json())
    assert body[0] == 400 and body[1]["error"]["code"] == "empty_payload"
    assert [p for p in (tmp_path / "pvc").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("path", ["/v1/async/payloads", "/v1/async/completions"])
async def test_get_on_a_submit_path_is_405_allowing_only_post_rather_than_a_job_lookup(
    stack: Any, path: str
) -> None:
    gw, _ = stack()
    async with aiohttp.ClientSession() as session:
        for method in ("GET", "OPTIONS"):
            async with session.request(method, gw.url + path, headers=KEY) as resp:
                assert (resp.status, resp.headers.get("Allow")) == (405, "POST"), method
