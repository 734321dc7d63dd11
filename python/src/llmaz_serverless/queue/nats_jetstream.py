"""NATS JetStream broker: the second backend behind the same interface.

Mapping of the broker semantics onto JetStream:
- one work-queue stream with a subject per model (`<prefix>.<model>`) and, per
  model, one durable pull consumer `<consumer>-<model>` filtered on that
  subject and shared by all workers. Per model, so that KEDA's nats-jetstream
  scaler can read each model's own backlog (`num_pending + num_ack_pending`
  of the consumer) for the model's ScaledObject, as the redis-streams
  triggers read each model's stream;
- `start` creates the stream and the consumers of the given models, on the
  producer too: KEDA reads a missing consumer as the stream's last sequence
  number, a backlog that never drains;
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
from llmaz_serverless.queue.settings import NatsSettings

# Shortest wait of one pull request (nats-py needs a positive timeout).
_BRIEF = 0.05

_UNSAFE_TOKEN = re.compile(r"[^A-Za-z0-9_\-]")


def subject_token(model: str) -> str:
    """A model name as one NATS subject token (dots, spaces and wildcards replaced).

    The chart computes the same token for the KEDA triggers (`llmaz-serverless.worker.natsToken`).
    """
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
        self.models = list(dict.fromkeys(models or []))
        self.claim_idle = claim_idle
        self.max_ack_pending = max_ack_pending
        self.nc: NatsClient | None = None
        self.js: JetStreamContext | None = None
        # model -> pull subscription on its consumer, made on the first fetch
        self._subs: dict[str, JetStreamContext.PullSubscription] = {}
        # Where the next fetch starts, so that one busy model never starves the others.
        self._next = 0

    def subject_for(self, model: str) -> str:
        return f"{self.settings.subject_prefix}.{subject_token(model)}"

    def consumer_for(self, model: str) -> str:
        return f"{self.settings.consumer}-{subject_token(model)}"

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
        for model in self.models:
            await self._ensure_consumer(model)

    async def _ensure_stream(self, name: str, subjects: list[str], retention: RetentionPolicy) -> None:
        assert self.js is not None
        try:
            await self.js.stream_info(name)
        except NotFoundError:
            await self.js.add_stream(
                StreamConfig(name=name, subjects=subjects, retention=retention, storage=StorageType.FILE)
            )

    async def _ensure_consumer(self, model: str) -> None:
        assert self.js is not None
        durable = self.consumer_for(model)
        try:
            await self.js.consumer_info(self.settings.stream, durable)
        except NotFoundError:
            await self.js.add_consumer(
                self.settings.stream,
                ConsumerConfig(
                    name=durable,
                    durable_name=durable,
                    filter_subject=self.subject_for(model),
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.claim_idle,
                    # Dead-lettering is ours (with the error attached), so the
                    # server never drops a message on its own.
                    max_deliver=-1,
                    max_ack_pending=self.max_ack_pending,
                ),
            )

    async def _subscription(self, model: str) -> JetStreamContext.PullSubscription:
        sub = self._subs.get(model)
        if sub is None:
            assert self.js is not None, "start() first"
            await self._ensure_consumer(model)
            sub = await self.js.pull_subscribe_bind(
                durable=self.consumer_for(model), stream=self.settings.stream
            )
            self._subs[model] = sub
        return sub

    async def enqueue(self, job: Job) -> str:
        if self.js is None:
            # The gateway connects beside its start (declare_streams) and keeps retrying.
            raise ConnectionError(f"not connected to NATS at {self.settings.url} yet; retry the request")
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
        """Up to `max_count` entries across the models' consumers, waiting up to `block` in all.

        The models take turns: each gets an equal slice of `block` to wait in
        (a pull request answers at once when its consumer has messages; once
        some entries are in hand the others are only asked briefly), and the
        next call starts with the model after the last one asked.
        """
        if max_count <= 0 or not self.models:
            return []
        out: list[Delivery] = []
        turns = len(self.models)
        for i in range(turns):
            model = self.models[(self._next + i) % turns]
            sub = await self._subscription(model)
            wait = _BRIEF if out else max(_BRIEF, block / turns)
            try:
                msgs = await sub.fetch(batch=max_count - len(out), timeout=wait)
            except (NatsTimeoutError, TimeoutError):
                msgs = []
            out += [self._delivery(m) for m in msgs]
            if len(out) >= max_count:
                self._next = (self._next + i + 1) % turns
                break
        else:
            self._next = (self._next + 1) % turns
        return out

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
        out = {}
        for model in self.models:
            await self._ensure_consumer(model)
            assert self.js is not None
            info = await self.js.consumer_info(self.settings.stream, self.consumer_for(model))
            out[model] = QueueDepth(lag=int(info.num_pending or 0), pending=int(info.num_ack_pending or 0))
        return out

    async def close(self) -> None:
        if self.nc is not None:
            # Not drain(): it waits out the pull subscription (30 s). Everything this
            # process owed the server (acks, naks of handed-back jobs) went out before.
            await self.nc.flush()
            await self.nc.close()
            self.nc = None
            self.js = None
            self._subs = {}
