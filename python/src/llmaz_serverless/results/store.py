"""Where a job's result goes: Redis for small ones, the object store otherwise.

Writes are idempotent by job id and first-writer-wins (Redis SET NX, a hard
link on the filesystem, a conditional PUT on S3): if two attempts of one job
both finish, the stored result is the first one and the status points at it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import redis.asyncio as aioredis

from llmaz_serverless.results.objects import ObjectNotFoundError, ObjectStore
from llmaz_serverless.results.settings import ResultSettings


class ResultTooLargeError(RuntimeError):
    pass


@dataclass(eq=False)
class ResultStore:
    client: aioredis.Redis
    settings: ResultSettings
    _: KW_ONLY
    # Prefix of every Redis key of this deployment (queue.keyPrefix).
    key_prefix: str
    # Where results above queue.results.inlineMaxBytes go; None: nowhere, they fail the job.
    objects: ObjectStore | None = None
    # Seconds a Redis-held result lives (queue.results.ttl, at least 1: EX 0 is an error).
    ttl: int = field(init=False)

    def __post_init__(self) -> None:
        self.ttl = max(1, int(self.settings.ttl))

    def redis_key(self, job_id: str) -> str:
        return f"{self.key_prefix}result:{job_id}"

    def inline_location(self, size: int, content_type: str) -> dict[str, Any] | None:
        """The location of a result kept in Redis, or None when it goes to the object store."""
        if self.settings.store == "redis" and size <= self.settings.inline_max_bytes:
            return {"store": "redis", "bytes": size, "contentType": content_type}
        return None

    async def put(self, job_id: str, data: bytes, content_type: str = "application/json") -> dict[str, Any]:
        """Store the result; returns its location (what the status records)."""
        inline = self.inline_location(len(data), content_type)
        if inline is not None:
            await self.client.set(self.redis_key(job_id), data, nx=True, ex=self.ttl)
            return inline
        if self.objects is None:
            raise ResultTooLargeError(
                f"result of {len(data)} bytes exceeds queue.results.inlineMaxBytes "
                f"({self.settings.inline_max_bytes}) and no object store is configured: "
                "set queue.objectStore.type to 'filesystem' or 's3'"
            )
        put = await self.objects.put_bytes(
            f"results/{job_id}.json", data, content_type=content_type, if_absent=True
        )
        return {"store": self.objects.kind, "uri": put.uri, "bytes": len(data), "contentType": content_type}

    async def get(self, job_id: str, location: dict[str, Any]) -> bytes | None:
        if location.get("store") == "redis":
            data = await self.client.get(self.redis_key(job_id))
            # Our clients leave decode_responses off, so a value is bytes (redis-py types it bytes | str).
            assert data is None or isinstance(data, bytes)
            return bytes(data) if data is not None else None
        if self.objects is None:
            return None
        try:
            return await self.objects.get_bytes(location["uri"])
        except ObjectNotFoundError:
            return None

    async def stream(self, job_id: str, location: dict[str, Any]) -> AsyncIterator[bytes]:
        if location.get("store") == "redis" or self.objects is None:
            data = await self.get(job_id, location)
            if data is None:
                raise ObjectNotFoundError(job_id)
            yield data
            return
        async for chunk in self.objects.stream(location["uri"]):
            yield chunk

    async def url(self, location: dict[str, Any]) -> str | None:
        if location.get("store") == "redis" or self.objects is None:
            return None
        return await self.objects.public_url(location["uri"])
