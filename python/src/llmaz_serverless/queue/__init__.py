"""Async job queue: the job model and the broker interface with its backends."""

from __future__ import annotations

from typing import Any

from llmaz_serverless.queue.broker import Broker, Delivery, QueueDepth
from llmaz_serverless.queue.job import Job
from llmaz_serverless.queue.settings import QueueSettings

__all__ = ["Broker", "Delivery", "Job", "QueueDepth", "build_broker"]


def build_broker(
    settings: QueueSettings,
    redis_client: Any,
    *,
    consumer: str,
    models: list[str],
    consumer_gc_idle: float | None = None,
) -> Broker:
    """The configured broker; `models` are the streams consumed (none for a producer).

    `consumer_gc_idle` is the worker's own (worker.consumerGcIdle): only a consumer removes idle peers.
    """
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
        consumer_gc_idle=consumer_gc_idle,
    )
