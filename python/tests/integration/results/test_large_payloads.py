"""Payloads by reference: the request body goes store -> worker -> model and never through Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from llmaz_serverless_testing.appservers import EmulatorServer
from llmaz_serverless_testing.worker import Client, running_worker, runtime_config

pytestmark = pytest.mark.integration

# The emulator (like aiohttp's default) takes bodies up to 1 MiB; the inline limit
# below is set far lower so these count as large payloads for the queue.
PAYLOAD_CHARS = 600_000


@pytest.fixture
def sim() -> Iterator[EmulatorServer]:
    with EmulatorServer(model="m", port=0, ttft=0.005, itl=0.0) as server:
        yield server


def _big_request(marker: str) -> dict[str, Any]:
    text = (marker + " ") * (PAYLOAD_CHARS // (len(marker) + 1))
    return {"model": "m", "messages": [{"role": "user", "content": text}], "max_tokens": 3}


async def _redis_holds(redis_url: str, marker: str) -> list[str]:
    """Every key whose value (string, hash field, stream entry) contains `marker`."""
    needle = marker.encode()
    r = aioredis.Redis.from_url(redis_url)
    found = []
    try:
        async for key in r.scan_iter(count=500):
            kind = (await r.type(key)).decode()
            if kind == "string":
                blobs = [await r.get(key) or b""]
            elif kind == "hash":
                blobs = list((await r.hgetall(key)).values())
            elif kind == "stream":
                blobs = [v for _, fields in await r.xrange(key) for v in fields.values()]
            else:
                blobs = []
            if any(needle in b for b in blobs):
                found.append(key.decode())
    finally:
        await r.aclose()
    return found


async def _upload(client: Client, body: dict[str, Any]) -> str:
    data = json.dumps(body).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    put = await client.submitter.upload(chunks(), tenant="default")
    return put.uri


@pytest.mark.parametrize("backend", ["filesystem", "s3"])
async def test_referenced_payload_is_processed_without_entering_redis_when_uploaded_to_the_store(
    backend: str, sim: EmulatorServer, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "s3":
        store: dict[str, Any] = request.getfixturevalue("s3_settings")
        results: dict[str, Any] = {"store": "objectStore"}
    else:
        store = {"type": "filesystem", "root": str(tmp_path / "pvc")}
        results = {}
    doc = runtime_config(redis_url, {"m": sim.url}, {
        "metricsPort": 0, "objectStore": store, "results": results, "payloads": {"inlineMaxBytes": 65536},
    })  # fmt: skip
    marker = f"marker{uuid.uuid4().hex}"
    async with Client(doc) as client, running_worker(doc):
        location = await _upload(client, _big_request(marker))
        job_id = await client.submit({"model": "m", "async": {"inputLocation": location}})
        status = await client.wait_finished(job_id)
        result = json.loads(await client.result(job_id) or b"null")
        url = await client.results.url(status["result"])

    assert status["state"] == "succeeded", status
    # The emulator counts a word as a token: it saw every repetition of the marker.
    assert result["usage"]["prompt_tokens"] >= PAYLOAD_CHARS // (len(marker) + 1)
    assert await _redis_holds(redis_url, marker) == []
    if backend == "s3":
        assert status["result"]["uri"].startswith(f"s3://{store['bucket']}/rel/results/")
        assert url is not None and url.startswith(store["endpointUrl"])
    else:
        assert location.startswith(f"file://{tmp_path / 'pvc'}/payloads/default/")


async def test_inline_body_above_the_inline_limit_is_spilled_to_the_store_when_submitted(
    sim: EmulatorServer, redis_url: str, tmp_path: Path
) -> None:
    doc = runtime_config(redis_url, {"m": sim.url}, {
        "metricsPort": 0, "objectStore": {"type": "filesystem", "root": str(tmp_path / "pvc")},
        "payloads": {"inlineMaxBytes": 65536},
    })  # fmt: skip
    marker = f"marker{uuid.uuid4().hex}"
    async with Client(doc) as client, running_worker(doc):
        job_id = await client.submit(_big_request(marker))
        status = await client.wait_finished(job_id)
    assert status["state"] == "succeeded"
    assert status["inputLocation"].startswith(f"file://{tmp_path / 'pvc'}/payloads/default/{job_id}")
    assert await _redis_holds(redis_url, marker) == []


async def test_job_is_refused_at_submit_when_the_referenced_payload_does_not_exist(
    sim: EmulatorServer, redis_url: str, tmp_path: Path
) -> None:
    from llmaz_serverless.queue.submit import SubmitError

    root = tmp_path / "pvc"
    doc = runtime_config(
        redis_url, {"m": sim.url}, {"objectStore": {"type": "filesystem", "root": str(root)}}
    )
    async with Client(doc) as client:
        with pytest.raises(SubmitError) as caught:
            await client.submit({"model": "m", "async": {"inputLocation": f"file://{root}/payloads/x.json"}})
    assert caught.value.param == "async.inputLocation"
    assert "upload it first" in caught.value.message


async def test_event_tracing_fields_are_kept_on_the_job_when_the_payload_is_given_by_reference(
    redis_url: str, tmp_path: Path
) -> None:
    # The event intake passes its event id as `extra`; a body by reference once lost it.
    doc = runtime_config(redis_url, {"m": "http://127.0.0.1:9"}, {
        "metricsPort": 0, "objectStore": {"type": "filesystem", "root": str(tmp_path / "pvc")},
    })  # fmt: skip
    async with Client(doc) as client:
        location = await _upload(client, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        done = await client.submitter.submit(
            "chat", {"model": "m", "async": {"inputLocation": location}}, tenant="default",
            extra={"eventId": "e1", "rule": "r"},
        )  # fmt: skip
    assert done.job.input_location == location
    assert done.job.extra == {"eventId": "e1", "rule": "r"}
