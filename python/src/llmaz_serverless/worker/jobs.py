"""What a worker does with one job entry.

Order matters for at-least-once with exactly-once results:
1. status -> running (skipped if an earlier attempt already finished the job);
2. call the model (held by the interceptor while the model scales from zero);
3. store the result, first writer wins;
4. commit the terminal status (one Lua script: decides the single completion
   and queues the webhook in the outbox);
5. only then acknowledge the entry.
A crash anywhere before 5 leaves the entry pending; the next attempt either
redoes the work or, finding the job committed, only acknowledges it.
Failures go to the dead-letter stream atomically with their acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from llmaz_serverless.config import ModelRuntime
from llmaz_serverless.queue.broker import Broker, Delivery
from llmaz_serverless.queue.job import InvalidJobError, Job, job_id_of
from llmaz_serverless.queue.redis_streams import RedisStreamsBroker
from llmaz_serverless.queue.status import TERMINAL, StatusStore
from llmaz_serverless.results.store import ResultStore, ResultTooLargeError
from llmaz_serverless.worker.metrics import WorkerMetrics
from llmaz_serverless.worker.model_client import ModelCallError, ModelClient, ModelReply
from llmaz_serverless.worker.settings import WorkerSettings

log = logging.getLogger(__name__)


@dataclass(kw_only=True, eq=False)
class JobProcessor:
    """A job lane's handler: one delivery in, a committed status (and an ack) out."""

    settings: WorkerSettings
    models: dict[str, ModelRuntime]
    broker: Broker
    status: StatusStore
    results: ResultStore
    client: ModelClient
    metrics: WorkerMetrics
    # This worker's consumer name, recorded on the status of the attempt it runs.
    consumer: str

    async def __call__(self, delivery: Delivery) -> None:
        self.metrics.inflight.inc()
        try:
            await self._process(delivery)
        finally:
            self.metrics.inflight.dec()

    async def _process(self, d: Delivery) -> None:
        try:
            job = Job.decode(d.raw)
        except InvalidJobError as err:
            log.error("dead-lettering malformed entry %s of %s: %s", d.entry_id, d.stream, err)
            await self.broker.dead_letter(d, job_id_of(d.raw), f"invalid job entry: {err}")
            self.metrics.jobs.labels("unknown", "dead_lettered").inc()
            return

        max_attempts = self.settings.max_attempts
        if d.attempt > max_attempts:
            # Reached only when attempts ended without a verdict (workers killed mid-job).
            await self._fail(
                d,
                job,
                {
                    "code": "max_attempts_exceeded",
                    "message": f"job was delivered {d.attempt} times without finishing "
                    f"(worker.maxAttempts is {max_attempts}); workers may be crashing on it",
                },
            )
            return

        marking = asyncio.ensure_future(self.status.mark_running(job.id, d.attempt, self.consumer))
        try:
            reply, model_seconds = await self._run_model(d, job, marking)
        finally:
            if not marking.done():
                marking.cancel()
        if reply is None:
            return

        fields: dict[str, Any] = {"modelSeconds": f"{model_seconds:.6f}", "attempts": d.attempt}
        inline = self.results.inline_location(len(reply.body), reply.content_type)
        if inline is not None and isinstance(self.broker, RedisStreamsBroker):
            # One script stores the result, commits the verdict and acknowledges the entry.
            fields["result"] = inline
            committed = await self.status.commit(
                job.id, "succeeded", fields,
                inline_result=(self.results.redis_key(job.id), reply.body),
                ack=(d.stream, self.broker.group, d.entry_id),
            )  # fmt: skip
        else:
            try:
                location = await self.results.put(job.id, reply.body, reply.content_type)
            except ResultTooLargeError as err:
                await self._fail(d, job, {"code": "result_too_large", "message": str(err)})
                return
            fields["result"] = location
            committed = await self.status.commit(job.id, "succeeded", fields)
            await self.broker.ack(d)
        completed = time.time()
        if committed:
            self.metrics.jobs.labels(job.model, "succeeded").inc()
            self.metrics.latency.labels(job.model).observe(max(0.0, completed - job.created_at))
            self.metrics.model_seconds.labels(job.model).observe(model_seconds)
        else:
            self.metrics.jobs.labels(job.model, "duplicate").inc()

    async def _run_model(
        self, d: Delivery, job: Job, marking: asyncio.Future[str]
    ) -> tuple[ModelReply | None, float]:
        """The model call; (None, 0) when the job was settled otherwise (duplicate, retry, failure).

        A first delivery cannot belong to a finished job, so its status update runs
        beside the model call instead of before it (one round trip off the critical
        path). A redelivery checks the status first: an earlier attempt may be done.
        """
        if d.attempt > 1 and await self._already_done(d, job, await marking):
            return None, 0.0
        model = self.models.get(job.model)
        if model is None:
            await marking
            await self._fail(d, job, {
                "code": "model_not_served",
                "message": f"model {job.model!r} is not served by this worker "
                           f"(serves {sorted(self.models)}); check queue.models and models[]",
            })  # fmt: skip
            return None, 0.0
        started = time.monotonic()
        try:
            reply = await self.client.call(model, job)
        except ModelCallError as err:
            await marking
            max_attempts = self.settings.max_attempts
            if err.retryable and d.attempt < max_attempts:
                delay = self.settings.backoff.delay(d.attempt)
                await self.status.mark_retry(job.id, d.attempt, err.as_error(), delay)
                await self.broker.retry_later(d, delay)
                self.metrics.jobs.labels(job.model, "retried").inc()
                log.info("job %s attempt %d failed (%s); retry in %.1fs", job.id, d.attempt, err, delay)
                return None, 0.0
            error = err.as_error()
            if err.retryable:
                error["message"] = f"{error['message']} (gave up after {d.attempt} attempts)"
            await self._fail(d, job, error)
            return None, 0.0
        model_seconds = time.monotonic() - started
        # The status says "running" before it can say "succeeded".
        if await self._already_done(d, job, await marking):
            return None, 0.0
        return reply, model_seconds

    async def _already_done(self, d: Delivery, job: Job, state: str) -> bool:
        if state not in TERMINAL:
            return False
        if state == "failed":
            # Committed as failed but not yet dead-lettered (crash in between): finish that.
            await self.broker.dead_letter(d, job.id, "job failed (dead-letter write completed on redelivery)")
        else:
            await self.broker.ack(d)
        self.metrics.jobs.labels(job.model, "duplicate").inc()
        return True

    async def _fail(self, d: Delivery, job: Job, error: dict[str, Any]) -> None:
        committed = await self.status.commit(
            job.id, "failed", {"error": error, "attempts": min(d.attempt, self.settings.max_attempts)}
        )
        if not committed:
            status = await self.status.get(job.id)
            if status is not None and status.get("state") == "succeeded":
                # An earlier attempt succeeded (its acknowledgement was lost): nothing failed.
                await self.broker.ack(d)
                self.metrics.jobs.labels(job.model, "duplicate").inc()
                return
        await self.broker.dead_letter(d, job.id, f"{error.get('code')}: {error.get('message')}")
        self.metrics.jobs.labels(job.model, "dead_lettered").inc()
        log.warning("job %s dead-lettered after %d attempt(s): %s", job.id, d.attempt, error.get("message"))
