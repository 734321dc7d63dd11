"""Object stores for payloads sent by reference and for large results.

Two backends share one small interface: a filesystem directory (a PVC
mounted in the gateway and the workers) and any S3-compatible service
(boto3). Objects are addressed by URI (`file:///root/key`, `s3://bucket/key`)
so a queue entry carries a few bytes whatever the payload size, and a URI is
only ever accepted inside the configured root or bucket prefix.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from llmaz_serverless.results.settings import ObjectStoreSettings

CHUNK_SIZE = 1 << 20


class ObjectLocationError(ValueError):
    """A URI outside this store (or malformed); the message says what is accepted."""


class ObjectNotFoundError(LookupError):
    pass


class PayloadTooLargeError(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"payload exceeds {limit} bytes")
        self.limit = limit


@dataclass
class PutResult:
    uri: str
    size: int
    # False when `if_absent` found an object already there (an earlier attempt's).
    created: bool = True


async def capped(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[bytes]:
    """Pass `chunks` through, raising PayloadTooLargeError as soon as they add up past `max_bytes`."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(max_bytes)
        yield chunk


class Reader(Protocol):
    """What ObjectStore.stream reads from: an open file, or a boto3 StreamingBody."""

    def read(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...


class ObjectStore(abc.ABC):
    kind: str = ""

    @abc.abstractmethod
    def uri_for(self, key: str) -> str: ...

    @abc.abstractmethod
    def check_uri(self, uri: str) -> None:
        """Raise ObjectLocationError unless `uri` names an object inside this store."""

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str = "application/json", if_absent: bool = False
    ) -> PutResult:
        """Store `data` at `key`; with `if_absent` an object already there is kept (first writer wins)."""
        created = await self._write_bytes(key, data, content_type, if_absent)
        return PutResult(uri=self.uri_for(key), size=len(data), created=created)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        max_bytes: int,
        content_type: str = "application/json",
    ) -> PutResult:
        """Store a stream without holding it in memory; PayloadTooLargeError past `max_bytes`."""
        size = await self._write_stream(key, capped(chunks, max_bytes), content_type)
        return PutResult(uri=self.uri_for(key), size=size)

    # The backends implement only the writes; put_bytes and put_stream above own the
    # PutResult and the size cap, so every backend reports and limits the same way.
    @abc.abstractmethod
    async def _write_bytes(self, key: str, data: bytes, content_type: str, if_absent: bool) -> bool:
        """Write one object; False when `if_absent` found one already there."""

    @abc.abstractmethod
    async def _write_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        """Write the stream as one object, visible only once complete; returns its size in bytes."""

    @abc.abstractmethod
    async def size(self, uri: str) -> int | None:
        """Size in bytes, None when there is no such object."""

    async def stream(self, uri: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The object's bytes chunk by chunk; ObjectNotFoundError when there is no such object."""
        reader = await self._open(uri)
        try:
            # The backends' readers block (a file, a boto3 body): each read runs in a thread.
            while chunk := await asyncio.to_thread(reader.read, chunk_size):
                yield chunk
        finally:
            reader.close()

    @abc.abstractmethod
    async def _open(self, uri: str) -> Reader:
        """A blocking reader of the object at `uri`; ObjectNotFoundError when there is none."""

    async def get_bytes(self, uri: str) -> bytes:
        parts = [chunk async for chunk in self.stream(uri)]
        return b"".join(parts)

    @abc.abstractmethod
    async def delete(self, uri: str) -> None: ...

    async def public_url(self, uri: str) -> str | None:
        """A URL a client can GET directly (presigned for S3), None if there is none."""
        return None


def build_object_store(settings: ObjectStoreSettings) -> ObjectStore | None:
    if settings.type == "filesystem":
        from llmaz_serverless.results.filesystem import FilesystemObjectStore

        return FilesystemObjectStore(settings.root)
    if settings.type == "s3":
        from llmaz_serverless.results.s3 import S3ObjectStore

        return S3ObjectStore(settings)
    return None
