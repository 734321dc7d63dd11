"""Object stores for payloads sent by reference and for large results.

Two backends share one small interface: a filesystem directory (a PVC
mounted in the gateway and the workers) and any S3-compatible service
(boto3). Objects are addressed by URI (`file:///root/key`, `s3://bucket/key`)
so a queue entry carries a few bytes whatever the payload size, and a URI is
only ever accepted inside the configured root or bucket prefix.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass

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


class ObjectStore(abc.ABC):
    kind: str = ""

    @abc.abstractmethod
    def uri_for(self, key: str) -> str: ...

    @abc.abstractmethod
    def check_uri(self, uri: str) -> None:
        """Raise ObjectLocationError unless `uri` names an object inside this store."""

    @abc.abstractmethod
    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str = "application/json", if_absent: bool = False
    ) -> PutResult: ...

    @abc.abstractmethod
    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        max_bytes: int,
        content_type: str = "application/json",
    ) -> PutResult:
        """Store a stream without holding it in memory; PayloadTooLargeError past `max_bytes`."""

    @abc.abstractmethod
    async def size(self, uri: str) -> int | None:
        """Size in bytes, None when there is no such object."""

    @abc.abstractmethod
    def stream(self, uri: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]: ...

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
