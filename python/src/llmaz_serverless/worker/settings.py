"""The `worker:` section of runtime.yaml: queue, retries, result storage, notifications.

The gateway's async API (producer) and the worker (consumer) both read this
section, so the stream names, payload limits and storage they use always
agree. The chart renders exactly these keys under `worker:`; every field
below is commented for that reason.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from llmaz_serverless.config import CamelModel, Duration, OptionalDuration, RuntimeConfig


class BackoffSettings(CamelModel):
    # Delay before the second attempt; each later attempt multiplies it.
    initial: Duration = 2.0
    # Growth factor between attempts (2.0 doubles the delay each time).
    multiplier: float = Field(default=2.0, ge=1.0)
    # Upper bound of one delay. For the Redis broker a delay is also capped at
    # `claimIdle`, because a retry waits as an idle pending entry.
    max: Duration = 60.0
    # Random extra delay, as a fraction of the delay, so retries of a burst spread out.
    jitter: float = Field(default=0.1, ge=0.0, le=1.0)


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


class ObjectStoreSettings(CamelModel):
    # Where payloads sent by reference and large results live: "none" (no
    # by-reference payloads, all results in Redis), "filesystem" (a PVC mounted at
    # `root` in the gateway and the worker) or "s3" (any S3-compatible service).
    type: Literal["none", "filesystem", "s3"] = "none"
    # filesystem: directory (a mounted PVC) shared by the gateway and the workers.
    root: str = "/var/lib/llmaz-serverless/objects"
    # s3: bucket name (must exist; the chart does not create it).
    bucket: str = ""
    # s3: key prefix for every object this release writes.
    prefix: str = "llmaz-serverless/"
    # s3: endpoint of an S3-compatible service (MinIO, Ceph...); empty means AWS.
    # Credentials come from the usual AWS environment (a Secret mounted as env).
    endpoint_url: str = ""
    # s3: region for request signing.
    region: str = "us-east-1"
    # s3: "path" for most S3-compatible services, "virtual" or "auto" for AWS.
    addressing_style: Literal["auto", "path", "virtual"] = "path"
    # s3: lifetime of the presigned GET URL returned as a result's location.
    presign_expiry: Duration = 3600.0


class ResultSettings(CamelModel):
    # Where results go: "redis" (small results, the default) or "objectStore".
    store: Literal["redis", "objectStore"] = "redis"
    # How long results and job status are kept in Redis. Object-store results are
    # not expired by us: use a bucket lifecycle rule or clean the PVC.
    ttl: Duration = 86400.0
    # A result larger than this goes to the object store even when `store` is
    # "redis" (fails the job with a clear error if no object store is configured).
    inline_max_bytes: int = Field(default=1_048_576, ge=1)


class PayloadSettings(CamelModel):
    # Largest request accepted, inline or by reference (1 GiB).
    max_bytes: int = Field(default=1_073_741_824, ge=1)
    # Request bodies above this are written to the object store by the gateway
    # and only their reference is queued, so big payloads never pass through Redis.
    inline_max_bytes: int = Field(default=262_144, ge=1)


class NotificationSettings(CamelModel):
    # Send webhooks at all (jobs without a webhook URL never send one).
    enabled: bool = True
    # Directory holding one file per tenant whose content is that tenant's HMAC
    # secret (a Kubernetes Secret mounted as a volume: key = tenant name).
    secrets_dir: str = "/etc/llmaz-serverless/webhook-secrets"
    # Refuse to send unsigned webhooks; the notification is recorded as failed
    # with the missing tenant named.
    require_signature: bool = True
    # Tenant name used when the request carries no tenant identity.
    default_tenant: str = "default"
    # Header naming the tenant, set by a trusted authenticating proxy in front of
    # the gateway (e.g. from a JWT claim). Empty: never read from the request,
    # because a client choosing its tenant could get events signed with another
    # tenant's secret. Also what scopes GET /v1/async/<id> to its submitter.
    tenant_header: str = ""
    # Delivery attempts per notification before it is recorded as failed.
    max_attempts: int = Field(default=5, ge=1)
    # Backoff between delivery attempts.
    backoff: BackoffSettings = Field(default_factory=lambda: BackoffSettings(initial=1.0, max=30.0))
    # Timeout of one webhook POST.
    timeout: Duration = 10.0
    # Webhook hosts accepted at submit; empty accepts any host (set it in
    # production so the worker cannot be pointed at internal services).
    allowed_hosts: list[str] = Field(default_factory=list)
    # CloudEvents `source` attribute of every event.
    source: str = "/llmaz-serverless/async"
    # Results up to this size are embedded in the event's `data.result`; larger
    # ones are announced by location only (0 never embeds).
    include_result_bytes: int = Field(default=65_536, ge=0)
    # The gateway's external URL; when set, events carry `data.statusUrl`.
    public_base_url: str = ""
    # Concurrent webhook deliveries per worker process.
    concurrency: int = Field(default=16, ge=1)


class WorkerSettings(CamelModel):
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
    # Stream receiving jobs that failed `maxAttempts` times, with their last error.
    dead_letter_stream: str = "llmaz-serverless:async:dead-letter"
    # Approximate cap on the dead-letter stream's length (oldest dropped first).
    dead_letter_max_len: int = Field(default=100_000, ge=1)
    # Stream of pending webhook deliveries (an outbox written with the result, so a
    # crash between storing a result and notifying never loses the notification).
    notify_stream: str = "llmaz-serverless:async:notify"
    # Attempts per job (the first one included) before it is dead-lettered.
    # A worker crash during a job counts as an attempt.
    max_attempts: int = Field(default=5, ge=1)
    # A delivered entry whose worker has not renewed it for this long is taken
    # over by another worker (XAUTOCLAIM). Workers renew their entries every
    # claimIdle/3, so long cold starts are never stolen from a live worker.
    claim_idle: Duration = 60.0
    # How often each worker looks for idle entries to take over and retries due.
    reclaim_interval: Duration = 1.0
    # Backoff between attempts of a failing job.
    backoff: BackoffSettings = Field(default_factory=BackoffSettings)
    # Jobs processed at once by one worker process.
    concurrency: int = Field(default=32, ge=1)
    # Budget of one model call after the model's `timeouts.coldStart` (a
    # non-streaming answer arrives only when generation ends); the model's own
    # `timeouts.request` wins when set.
    model_timeout: Duration = 1800.0
    # Models this worker serves; empty serves every model in `models`.
    models: list[str] = Field(default_factory=list)
    # On SIGTERM, wait this long for in-flight jobs, then hand the rest back to
    # the queue. Keep it below the pod's terminationGracePeriodSeconds.
    drain_timeout: Duration = 120.0
    # Port of the worker's /metrics and /healthz (0 disables the listener).
    metrics_port: int = Field(default=9090, ge=0, le=65535)
    # Address the metrics listener binds.
    metrics_host: str = "0.0.0.0"
    # Remove consumers that have been idle this long and own no entries (pods gone for good).
    consumer_gc_idle: OptionalDuration = 3600.0
    results: ResultSettings = Field(default_factory=ResultSettings)
    payloads: PayloadSettings = Field(default_factory=PayloadSettings)
    object_store: ObjectStoreSettings = Field(default_factory=ObjectStoreSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    nats: NatsSettings = Field(default_factory=NatsSettings)

    @model_validator(mode="after")
    def _check(self) -> WorkerSettings:
        if self.results.store == "objectStore" and self.object_store.type == "none":
            raise ValueError(
                "worker.results.store is 'objectStore' but worker.objectStore.type is 'none': "
                "set worker.objectStore.type to 'filesystem' or 's3', or results.store to 'redis'"
            )
        if self.object_store.type == "s3" and not self.object_store.bucket:
            raise ValueError(
                "worker.objectStore.type is 's3' but worker.objectStore.bucket is empty: name the bucket"
            )
        if self.payloads.inline_max_bytes > self.payloads.max_bytes:
            raise ValueError(
                f"worker.payloads.inlineMaxBytes ({self.payloads.inline_max_bytes}) is larger than "
                f"worker.payloads.maxBytes ({self.payloads.max_bytes}): lower inlineMaxBytes"
            )
        return self

    def stream_for(self, model: str) -> str:
        """The Redis stream of one model's jobs."""
        return f"{self.stream_prefix}{model}"


ENV_PREFIX = "LLMAZ_SERVERLESS_WORKER__"
SECTION = "worker"


def load_settings(
    runtime: RuntimeConfig,
    args: argparse.Namespace | None = None,
    environ: Mapping[str, str] | None = None,
) -> WorkerSettings:
    """The `worker:` section of `runtime` with env vars, then flags, laid over it.

    Same four forms as every component (see gateway/overrides.py): `worker.claimIdle`
    in the file, `--claim-idle`, `LLMAZ_SERVERLESS_WORKER__CLAIM_IDLE`, `settings.claim_idle`.
    """
    from llmaz_serverless.gateway.overrides import merge, overrides_from_args, overrides_from_env, to_aliases

    raw: dict[str, Any] = to_aliases(WorkerSettings, (runtime.model_extra or {}).get(SECTION) or {})
    raw = merge(raw, overrides_from_env(WorkerSettings, ENV_PREFIX, environ))
    if args is not None:
        raw = merge(raw, overrides_from_args(WorkerSettings, args))
    return WorkerSettings.model_validate(raw)
