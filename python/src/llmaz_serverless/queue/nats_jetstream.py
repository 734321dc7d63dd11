"""NATS JetStream broker: the second backend behind the same interface.

Mapping of the broker semantics onto JetStream:
- one work-queue stream with a subject per model (`<prefix>.<model>`), one
  durable pull consumer shared by all workers (what KEDA's nats-jetstream
  scaler reads: `num_pending` is the lag, `num_ack_pending` the in-flight);
- `ack_wait` = `claimIdle`: an unacknowledged message is redelivered by the
  server after it, so `reclaim` has nothing to do here;
- `renew` sends "in progress" (+WPI), which restarts the server's ack timer;
- `retry_later` is a NAK with a delay; the attempt is the server's
  `num_delivered`, so crashes count as attempts like on Redis;
- `release` is an immediate NAK. Unlike Redis, JetStream cannot lower the
  delivery count, so a job handed back on shutdown spends one attempt.
"""

from __future__ import annotations

import json
import re
import time

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from llmaz_serverless.queue.broker import Broker, Delivery, QueueDepth
from llmaz_serverless.queue.job import Job
from llmaz_serverless.worker.settings import NatsSettings

_UNSAFE_TOKEN = re.compile(r"[^A-Za-z0-9_\-]")


def subject_token(model: str) -> str:
    """A model name as one NATS subject token (dots, spaces and wildcards replaced)."""
    return _UNSAFE_TOKEN.sub("_", model) or "_"


class NatsJetStreamBroker(Broker):
    def __init__(
        self,
        settings: NatsSettings,
        *,
        models: list[str] | None = None,
        claim_idle: float = 60.0,
        max_ack_pending: int = 10_000,
    ) -> None:
        self.settings = settings
        self.models = list(models or [])
        self.claim_idle = claim_idle
        self.max_ack_pending = max_ack_pending
        self.nc: NatsClient | None = None
        self.js: JetStreamContext | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    def subject_for(self, model: str) -> str:
        return f"{self.settings.subject_prefix}.{subject_token(model)}"

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.settings.stream}_DLQ"

    async def start(self) -> None:
        if self.nc is None:
            self.nc = await nats.connect(self.settings.url, name="llmaz-serverless")
            self.js = self.nc.jetstream()
        assert self.js is not None
        await self._ensure_stream(
            self.settings.stream, [f"{self.settings.subject_prefix}.>"], RetentionPolicy.WORK_QUEUE
        )
        await self._ensure_stream(
            self.dead_letter_stream, [self.settings.dead_letter_subject], RetentionPolicy.LIMITS
        )

    async def _ensure_stream(self, name: str, subjects: list[str], retention: RetentionPolicy) -> None:
        assert self.js is not None
        try:
            await self.js.stream_info(name)
        except NotFoundError:
            await self.js.add_stream(
                StreamConfig(name=name, subjects=subjects, retention=retention, storage=StorageType.FILE)
            )

    async def _subscription(self) -> JetStreamContext.PullSubscription:
        if self._sub is None:
            assert self.js is not None, "start() first"
            self._sub = await self.js.pull_subscribe(
                f"{self.settings.subject_prefix}.>",
                durable=self.settings.consumer,
                stream=self.settings.stream,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.claim_idle,
                    # Dead-lettering is ours (with the error attached), so the
                    # server never drops a message on its own.
                    max_deliver=-1,
                    max_ack_pending=self.max_ack_pending,
                ),
            )
        return self._sub

    async def enqueue(self, job: Job) -> str:
        assert self.js is not None, "start() first"
        # Msg-Id makes a retried submit of the same job a no-op on the server.
        ack = await self.js.publish(
            self.subject_for(job.model), job.encode(), headers={"Nats-Msg-Id": job.id}
        )
        return str(ack.seq)

    def _delivery(self, msg: Msg) -> Delivery:
        meta = msg.metadata
        return Delivery(
            stream=msg.subject,
            entry_id=str(meta.sequence.stream),
            raw=msg.data,
            attempt=int(meta.num_delivered),
            handle=msg,
        )

    async def fetch(self, max_count: int, block: float) -> list[Delivery]:
        if max_count <= 0:
            return []
        sub = await self._subscription()
        try:
            msgs = await sub.fetch(batch=max_count, timeout=max(0.05, block))
        except (NatsTimeoutError, TimeoutError):
            return []
        return [self._delivery(m) for m in msgs]

    async def ack(self, delivery: Delivery) -> None:
        await delivery.handle.ack_sync()

    async def retry_later(self, delivery: Delivery, delay: float) -> None:
        await delivery.handle.nak(delay=max(0.0, delay))

    async def release(self, delivery: Delivery) -> None:
        await delivery.handle.nak()

    async def renew(self, deliveries: list[Delivery]) -> list[Delivery]:
        for d in deliveries:
            await d.handle.in_progress()
        # JetStream does not tell a consumer that a message went to someone else.
        return []

    async def reclaim(self, max_count: int) -> list[Delivery]:
        return []

    async def dead_letter(self, delivery: Delivery, job_id: str | None, error: str) -> None:
        assert self.js is not None
        record = {
            "jobId": job_id,
            "error": error[:4000],
            "attempts": delivery.attempt,
            "subject": delivery.stream,
            "sequence": delivery.entry_id,
            "failedAt": round(time.time(), 3),
            "job": delivery.raw.decode(errors="replace"),
        }
        await self.js.publish(self.settings.dead_letter_subject, json.dumps(record).encode())
        await delivery.handle.ack_sync()

    async def depth(self) -> dict[str, QueueDepth]:
        # One consumer serves every model: the depth is reported under "*".
        sub = await self._subscription()
        info = await sub.consumer_info()
        return {"*": QueueDepth(lag=int(info.num_pending or 0), pending=int(info.num_ack_pending or 0))}

    async def close(self) -> None:
        if self.nc is not None:
            # Not drain(): it waits out the pull subscription (30 s). Everything this
            # process owed the server (acks, naks of handed-back jobs) went out before.
            await self.nc.flush()
            await self.nc.close()
            self.nc = None
            self.js = None
            self._sub = None
