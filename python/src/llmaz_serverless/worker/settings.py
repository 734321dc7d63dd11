"""The `worker:` section of runtime.yaml: what only the worker reads (attempts, retries, concurrency, drain).

What the worker shares with the producers of jobs (broker, streams, key
prefixes, payload limits, result storage, notifications) is the `queue:`
section, owned by the queue package (queue/settings.py). The chart renders
these keys under `worker:`; every field below is commented for that reason.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from llmaz_serverless.backoff import Backoff
from llmaz_serverless.config import Duration, OptionalDuration
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.settings import ComponentSettings

SECTION = "worker"


class JobBackoff(Backoff):
    # Delay before a failed job's second attempt.
    initial: Duration = 2.0
    # Upper bound of one delay. For the Redis broker a delay is also capped at
    # `queue.claimIdle`, because a retry waits as an idle pending entry.
    max: Duration = 60.0


class WorkerSettings(ComponentSettings):
    # Four forms like every component (llmaz_serverless.settings): `worker.concurrency`
    # in the file, `--concurrency`, `LLMAZ_SERVERLESS_WORKER__CONCURRENCY`, `concurrency=`.
    COMPONENT: ClassVar[str] = SECTION

    # Attempts per job (the first one included) before it is dead-lettered.
    # A worker crash during a job counts as an attempt.
    max_attempts: int = Field(default=5, ge=1)
    # How often each worker looks for idle entries to take over and retries due.
    reclaim_interval: Duration = 1.0
    # Backoff between attempts of a failing job.
    backoff: JobBackoff = Field(default_factory=JobBackoff)
    # Jobs processed at once by one worker process.
    concurrency: int = Field(default=32, ge=1)
    # Budget of one model call after the model's `timeouts.coldStart` (a
    # non-streaming answer arrives only when generation ends); the model's own
    # `timeouts.request` wins when set.
    model_timeout: Duration = 1800.0
    # On SIGTERM, wait this long for in-flight jobs, then hand the rest back to
    # the queue. Keep it below the pod's terminationGracePeriodSeconds.
    drain_timeout: Duration = 120.0
    # Port of the worker's /metrics and /healthz (0 disables the listener).
    metrics_port: int = Field(default=9090, ge=0, le=65535)
    # Address the metrics listener binds.
    metrics_host: str = "0.0.0.0"
    # Remove consumers that have been idle this long and own no entries (pods gone for good).
    consumer_gc_idle: OptionalDuration = 3600.0

    @model_validator(mode="before")
    @classmethod
    def _no_queue_keys(cls, data: Any) -> Any:
        # A runtime.yaml written before the `queue:` section existed has these under `worker:`;
        # say where they live now instead of pydantic's bare "extra inputs are not permitted".
        if isinstance(data, dict):
            moved = sorted(key for key in data if key in _QUEUE_KEYS)
            if moved:
                raise ValueError(
                    f"worker.{', worker.'.join(moved)} belong(s) to the queue: section now (read by the "
                    f"gateway too): move {', '.join(moved)} under queue: in runtime.yaml (the chart does "
                    "this itself from worker.config)"
                )
        return data


# Both spellings pydantic accepts (populate_by_name): file keys and attribute names.
_QUEUE_KEYS = frozenset(
    key for name, field in QueueSettings.model_fields.items() for key in (name, field.alias or name)
)
