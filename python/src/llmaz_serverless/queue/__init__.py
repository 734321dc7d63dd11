"""Async job queue: the job model and the broker interface with its backends."""

from __future__ import annotations

from typing import Any

from llmaz_serverless.queue.broker import Broker, Delivery, QueueDepth
from llmaz_serverless.queue.job import Job
from llmaz_serverless.worker.settings import WorkerSettings

__all__ = ["Broker", "Delivery", "Job", "QueueDepth", "build_broker"]


def build_broker(settings: WorkerSettings, redis_client: Any, *, consumer: str, models: list[str]) -> Broker:
    """The configured broker; `models` are the streams consumed (none for a producer)."""
    if settings.broker == "nats":
        from llmaz_serverless.queue.nats_jetstream import NatsJetStreamBroker

        return NatsJetStreamBroker(settings.nats, models=models, claim_idle=settings.claim_idle)
    from llmaz_serverless.queue.redis_streams import RedisStreamsBroker

    return RedisStreamsBroker(
        redis_client,
        group=settings.consumer_group,
        consumer=consumer,
        streams={settings.stream_for(m): m for m in models},
        stream_of=lambda job: settings.stream_for(job.model),
        dead_letter_stream=settings.dead_letter_stream,
        dead_letter_max_len=settings.dead_letter_max_len,
        claim_idle=settings.claim_idle,
        consumer_gc_idle=settings.consumer_gc_idle,
    )
