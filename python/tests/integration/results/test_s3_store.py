"""S3-compatible object store against moto's S3 emulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from llmaz_serverless.results.objects import ObjectLocationError, ObjectNotFoundError, PayloadTooLargeError
from llmaz_serverless.results.s3 import PART_SIZE, S3ObjectStore
from llmaz_serverless.results.settings import ObjectStoreSettings
from llmaz_serverless_testing.worker import MotoS3Server

pytestmark = pytest.mark.integration


def _store(s3_settings: dict[str, Any]) -> S3ObjectStore:
    return S3ObjectStore(ObjectStoreSettings.model_validate(s3_settings))


async def _chunks(total: int, size: int = 1 << 20) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield bytes([sent // size % 251]) * n
        sent += n


async def test_first_write_wins_when_two_attempts_store_the_same_result(s3_settings: dict[str, Any]) -> None:
    store = _store(s3_settings)
    first = await store.put_bytes("results/j.json", b"first", if_absent=True)
    second = await store.put_bytes("results/j.json", b"second", if_absent=True)
    assert (first.created, second.created) == (True, False)
    assert first.uri == f"s3://{s3_settings['bucket']}/rel/results/j.json"
    assert await store.get_bytes(first.uri) == b"first"


async def test_large_stream_is_uploaded_in_parts_and_read_back_whole_when_above_one_part(
    s3_settings: dict[str, Any], moto_s3: MotoS3Server
) -> None:
    store = _store(s3_settings)
    total = 2 * PART_SIZE + 123
    put = await store.put_stream("payloads/t/big.json", _chunks(total), max_bytes=1 << 30)
    assert put.size == total
    assert await store.size(put.uri) == total
    head = moto_s3.client().head_object(Bucket=s3_settings["bucket"], Key="rel/payloads/t/big.json")
    assert head["ETag"].strip('"').endswith("-3")  # a 3-part multipart upload, never one 16 MiB PUT
    got = 0
    async for chunk in store.stream(put.uri):
        got += len(chunk)
    assert got == total


async def test_oversized_stream_is_refused_and_its_parts_aborted_when_over_the_limit(
    s3_settings: dict[str, Any], moto_s3: MotoS3Server
) -> None:
    store = _store(s3_settings)
    with pytest.raises(PayloadTooLargeError):
        await store.put_stream(
            "payloads/t/too-big.json", _chunks(PART_SIZE + (2 << 20)), max_bytes=PART_SIZE + 1
        )
    client = moto_s3.client()
    assert client.list_multipart_uploads(Bucket=s3_settings["bucket"]).get("Uploads", []) == []
    assert await store.size(store.uri_for("payloads/t/too-big.json")) is None


async def test_presigned_url_serves_the_object_when_fetched_without_credentials(
    s3_settings: dict[str, Any],
) -> None:
    store = _store(s3_settings)
    put = await store.put_bytes("results/r.json", b'{"ok": true}')
    url = await store.public_url(put.uri)
    assert url is not None and "Signature" in url
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 200
        assert await resp.read() == b'{"ok": true}'


@pytest.mark.parametrize(
    "uri",
    [
        "s3://other-bucket/rel/x.json",
        "s3://{bucket}/elsewhere/x.json",
        "s3://{bucket}/rel/",
        "file:///etc/passwd",
    ],
)
def test_uri_is_refused_when_outside_the_bucket_prefix(s3_settings: dict[str, Any], uri: str) -> None:
    with pytest.raises(ObjectLocationError):
        _store(s3_settings).check_uri(uri.format(bucket=s3_settings["bucket"]))


async def test_streaming_an_object_never_written_raises_not_found_when_first_read(
    s3_settings: dict[str, Any],
) -> None:
    store = _store(s3_settings)
    stream = store.stream(store.uri_for("results/never-written.json"))
    with pytest.raises(ObjectNotFoundError):
        await anext(stream)
