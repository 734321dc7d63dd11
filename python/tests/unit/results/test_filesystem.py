"""Filesystem object store (a PVC in a cluster): atomic, first-writer-wins, confined to its root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from llmaz_serverless.results.filesystem import FilesystemObjectStore
from llmaz_serverless.results.objects import ObjectLocationError, ObjectNotFoundError, PayloadTooLargeError


async def _chunks(n: int, size: int) -> AsyncIterator[bytes]:
    for i in range(n):
        yield bytes([i % 256]) * size


async def test_first_write_wins_when_two_attempts_store_the_same_key(tmp_path: Path) -> None:
    store = FilesystemObjectStore(tmp_path)
    first = await store.put_bytes("results/j.json", b"first", if_absent=True)
    second = await store.put_bytes("results/j.json", b"second", if_absent=True)
    assert (first.created, second.created) == (True, False)
    assert await store.get_bytes(first.uri) == b"first"
    assert not [p for p in (tmp_path / "results").iterdir() if p.name.startswith(".tmp-")]


async def test_stream_is_stored_and_read_back_in_chunks_when_large(tmp_path: Path) -> None:
    store = FilesystemObjectStore(tmp_path)
    put = await store.put_stream("payloads/t/big.json", _chunks(5, 1 << 20), max_bytes=10 << 20)
    assert put.size == 5 << 20
    assert await store.size(put.uri) == 5 << 20
    sizes = [len(c) async for c in store.stream(put.uri, chunk_size=1 << 20)]
    assert sizes == [1 << 20] * 5


async def test_stream_is_refused_and_nothing_left_behind_when_over_the_limit(tmp_path: Path) -> None:
    store = FilesystemObjectStore(tmp_path)
    with pytest.raises(PayloadTooLargeError):
        await store.put_stream("payloads/t/big.json", _chunks(3, 1000), max_bytes=2500)
    assert list((tmp_path / "payloads" / "t").iterdir()) == []


@pytest.mark.parametrize(
    "uri", ["file:///etc/passwd", "s3://bucket/key", "file://otherhost/x", "{root}/../x"]
)
async def test_uri_is_refused_when_outside_the_root(tmp_path: Path, uri: str) -> None:
    store = FilesystemObjectStore(tmp_path / "root")
    with pytest.raises(ObjectLocationError):
        store.check_uri(uri.replace("{root}", f"file://{tmp_path / 'root'}"))


async def test_reading_a_missing_object_raises_not_found_when_it_was_deleted(tmp_path: Path) -> None:
    store = FilesystemObjectStore(tmp_path)
    put = await store.put_bytes("a.json", b"x")
    await store.delete(put.uri)
    assert await store.size(put.uri) is None
    with pytest.raises(ObjectNotFoundError):
        await store.get_bytes(put.uri)
