"""The broker interface the gateway (producer) and the worker (consumer) use.

Semantics every backend keeps:
- at-least-once: an entry stays owned by a worker until `ack`; a worker that
  dies leaves it for another worker (Redis: XAUTOCLAIM after `claimIdle`;
  NATS: redelivery after `ack_wait`);
- `attempt` counts deliveries, so a crash mid-job counts as an attempt and a
  job that kills every worker still ends in the dead-letter queue;
- `retry_later` keeps the entry owned by the queue (pending) while it waits,
  so KEDA's pending count keeps a worker up for it;
- `renew` tells the queue a long job is still alive.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from llmaz_serverless.queue.job import Job


@dataclass
class Delivery:
    """One entry handed to a worker."""

    # Where the entry lives: a Redis stream key or a NATS subject.
    stream: str
    # Backend id: a Redis stream entry id or the NATS stream sequence.
    entry_id: str
    raw: bytes
    # 1 for the first delivery, +1 for every retry or takeover.
    attempt: int
    # Backend object needed to ack (the NATS message); None for Redis.
    handle: Any = field(default=None, repr=False)


@dataclass
class QueueDepth:
    # Entries not yet delivered to any worker (what wakes a worker from zero).
    lag: int
    # Entries delivered and not acknowledged: in flight, or waiting for a retry.
    pending: int


class Broker(abc.ABC):
    """A job queue with consumer-group semantics."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect and create streams and groups that are missing (idempotent)."""

    @abc.abstractmethod
    async def enqueue(self, job: Job) -> str:
        """Add a job; returns the backend's entry id."""

    @abc.abstractmethod
    async def fetch(self, max_count: int, block: float) -> list[Delivery]:
        """New entries for this consumer, waiting up to `block` seconds for one."""

    @abc.abstractmethod
    async def ack(self, delivery: Delivery) -> None:
        """The job is finished (result or dead letter stored): never deliver it again."""

    @abc.abstractmethod
    async def retry_later(self, delivery: Delivery, delay: float) -> None:
        """Deliver the entry again (to any worker) after about `delay` seconds."""

    @abc.abstractmethod
    async def release(self, delivery: Delivery) -> None:
        """Hand an unfinished entry back for another worker now (shutdown)."""

    @abc.abstractmethod
    async def renew(self, deliveries: list[Delivery]) -> list[Delivery]:
        """Keep entries owned while their jobs run; returns those this worker lost."""

    @abc.abstractmethod
    async def reclaim(self, max_count: int) -> list[Delivery]:
        """Take over entries other workers left idle (dead workers, due retries)."""

    @abc.abstractmethod
    async def dead_letter(self, delivery: Delivery, job_id: str | None, error: str) -> None:
        """Move the entry to the dead-letter queue with its error, and ack it."""

    @abc.abstractmethod
    async def depth(self) -> dict[str, QueueDepth]:
        """Lag and pending entries per model."""

    async def maintain(self) -> None:  # noqa: B027 - optional hook, most backends need nothing
        """Periodic housekeeping (trimming acknowledged entries, forgetting dead consumers)."""

    @abc.abstractmethod
    async def close(self) -> None: ...
