"""The `queue:` section of runtime.yaml: everything the producer and the consumer of async jobs agree on.

The gateway's async API and event intake (producers) and the worker
(consumer) both read this section, so the broker, stream names, key prefixes,
consumer group, payload limits, result storage and notification settings they
use are one set of values. Worker-only knobs (concurrency, retries, drain) stay
in the `worker:` section (worker/settings.py). The chart renders these keys
from the worker's values (templates/_runtime.tpl); every field is commented
for that reason.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from llmaz_serverless.config import CamelModel, Duration
from llmaz_serverless.notify.settings import NotificationSettings
from llmaz_serverless.results.settings import ObjectStoreSettings, ResultSettings
from llmaz_serverless.settings import ComponentSettings

SECTION = "queue"


class NatsSettings(CamelModel):
    # NATS server URL (only read when `broker` is "nats").
    url: str = "nats://127.0.0.1:4222"
    # JetStream stream holding the jobs; created with file storage if missing.
    stream: str = "LLMAZ_ASYNC"
    # Subject prefix; a job for model M is published on `<subjectPrefix>.<M>`.
    subject_prefix: str = "llmaz.async.jobs"
    # Prefix of the durable pull consumers: model M's jobs are read by the consumer
    # `<consumer>-<M>` (M as a subject token), shared by every worker. One per model,
    # so that each model's KEDA nats-jetstream trigger reads that model's backlog.
    consumer: str = "workers"
    # Subject dead-lettered jobs are published on (kept in the stream `<stream>_DLQ`).
    dead_letter_subject: str = "llmaz.async.dead"


class PayloadSettings(CamelModel):
    # Largest request accepted, inline or by reference (1 GiB).
    max_bytes: int = Field(default=1_073_741_824, ge=1)
    # Request bodies above this are written to the object store by the gateway
    # and only their reference is queued, so big payloads never pass through Redis.
    inline_max_bytes: int = Field(default=262_144, ge=1)


class QueueSettings(ComponentSettings):
    # Four forms like every component (llmaz_serverless.settings): `queue.claimIdle` in the
    # file, `LLMAZ_SERVERLESS_QUEUE__CLAIM_IDLE`, `--queue-claim-idle` (in the worker and the
    # gateway, which both read it), `claim_idle=`.
    COMPONENT: ClassVar[str] = SECTION
    FLAG_PREFIX: ClassVar[str] = "queue-"

    # Queue backend: "redis" (Redis Streams + consumer group, scales with KEDA's
    # redis-streams trigger) or "nats" (NATS JetStream, see `nats`).
    broker: Literal["redis", "nats"] = "redis"
    # Stream name prefix: the jobs of model M go to the stream `<streamPrefix><M>`
    # (one stream per model, so each model's ScaledObject can read its own lag).
    stream_prefix: str = "llmaz-serverless:async:"
    # Prefix of the Redis keys holding job status and inline results
    # (`<keyPrefix>status:<id>`, `<keyPrefix>result:<id>`).
    key_prefix: str = "llmaz-serverless:async:"
    # Consumer group every worker joins on every model stream.
    consumer_group: str = "workers"
    # Stream receiving jobs that failed `worker.maxAttempts` times, with their last error.
    dead_letter_stream: str = "llmaz-serverless:async:dead-letter"
    # Approximate cap on the dead-letter stream's length (oldest dropped first).
    dead_letter_max_len: int = Field(default=100_000, ge=1)
    # Stream of pending webhook deliveries (an outbox written with the result, so a
    # crash between storing a result and notifying never loses the notification).
    notify_stream: str = "llmaz-serverless:async:notify"
    # A delivered entry whose worker has not renewed it for this long is taken
    # over by another worker (XAUTOCLAIM; on NATS the consumers' ack wait, set by
    # whichever side creates them first, so the gateway must know it too). Workers
    # renew their entries every claimIdle/3, so long cold starts are never stolen.
    claim_idle: Duration = 60.0
    # Models with an async queue (the worker serves them, the gateway refuses async
    # jobs for any other); empty: every model in `models`.
    models: list[str] = Field(default_factory=list)
    # Request size limits, and when a body is offloaded to the object store.
    payloads: PayloadSettings = Field(default_factory=PayloadSettings)
    # Where results are kept (the gateway reads what the worker writes).
    results: ResultSettings = Field(default_factory=ResultSettings)
    # Object store for by-reference payloads and large results.
    object_store: ObjectStoreSettings = Field(default_factory=ObjectStoreSettings)
    # Webhook notifications of finished jobs.
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    # NATS JetStream names (only read when `broker` is "nats").
    nats: NatsSettings = Field(default_factory=NatsSettings)

    @model_validator(mode="after")
    def _check(self) -> QueueSettings:
        if self.results.store == "objectStore" and self.object_store.type == "none":
            raise ValueError(
                "queue.results.store is 'objectStore' but queue.objectStore.type is 'none': "
                "set objectStore.type to 'filesystem' or 's3', or results.store to 'redis'"
            )
        if self.object_store.type == "s3" and not self.object_store.bucket:
            raise ValueError(
                "queue.objectStore.type is 's3' but queue.objectStore.bucket is empty: name the bucket"
            )
        if self.payloads.inline_max_bytes > self.payloads.max_bytes:
            raise ValueError(
                f"queue.payloads.inlineMaxBytes ({self.payloads.inline_max_bytes}) is larger than "
                f"queue.payloads.maxBytes ({self.payloads.max_bytes}): lower inlineMaxBytes"
            )
        return self

    def stream_for(self, model: str) -> str:
        """The Redis stream of one model's jobs."""
        return f"{self.stream_prefix}{model}"
