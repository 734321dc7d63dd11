"""The `submit` action: an event becomes one async inference job, once.

CloudEvents producers deliver at least once, so the same event may arrive
twice (a retry after a timeout, a replayed batch). The job id is derived from
the event's identity (`source` + `id`, which CloudEvents requires to be unique
together) and the rule and action that fired, and the first delivery records
it in Redis with `SET NX` before queueing. A redelivery finds the record and
gets the first job's id back instead of a second job. If queueing fails, the
record is removed again, so the producer's retry can still queue the job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from llmaz_serverless.events.rules import SubmitApi


@dataclass(frozen=True)
class JobRequest:
    """What the async path needs to queue one job built from an event."""

    job_id: str
    model: str
    # "chat" or "completions", as the async queue names the OpenAI APIs.
    api: SubmitApi
    body: dict[str, Any]
    webhook: str | None
    tenant: str
    # Identity of the triggering event, kept on the job for tracing.
    event_id: str
    event_source: str
    rule: str


# Queues a job on the async path and returns the job id clients can poll. Raises
# ValueError when the async API refuses the request itself (permanent), anything
# else when the queue cannot be reached (the event may be redelivered).
Enqueue = Callable[[JobRequest], Awaitable[str]]


def idempotency_key(source: str, event_id: str, rule: str, action_index: int) -> str:
    """Stable per (event, rule, action): one event may fire several submit actions."""
    raw = "\n".join((source, event_id, rule, str(action_index))).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def job_id_for(key: str) -> str:
    return f"event-{key}"


@dataclass(frozen=True)
class Submitted:
    job_id: str
    # True when this event had already been submitted: nothing new was queued.
    duplicate: bool


class Submitter:
    def __init__(self, redis: Redis, enqueue: Enqueue, key_prefix: str, dedupe_ttl: float) -> None:
        self.redis = redis
        self.enqueue = enqueue
        self.key_prefix = key_prefix
        self.dedupe_ttl_ms = max(1, round(dedupe_ttl * 1000))

    def key(self, idempotency: str) -> str:
        return f"{self.key_prefix}submitted:{idempotency}"

    async def submit(self, request: JobRequest, idempotency: str) -> Submitted:
        key = self.key(idempotency)
        if not await self.redis.set(key, request.job_id, nx=True, px=self.dedupe_ttl_ms):
            existing = await self.redis.get(key)
            job_id = existing.decode() if isinstance(existing, bytes) else existing
            return Submitted(job_id or request.job_id, duplicate=True)
        try:
            job_id = await self.enqueue(request)
        except BaseException:
            # Forget the claim so a redelivery of this event can queue the job.
            await self.redis.delete(key)
            raise
        if job_id != request.job_id:
            await self.redis.set(key, job_id, xx=True, px=self.dedupe_ttl_ms)
        return Submitted(job_id, duplicate=False)
