"""The worker process: builds the parts from runtime.yaml and runs the two lanes.

    service = WorkerService(load_runtime_config(path))
    await service.run(stop_event)      # returns after a graceful drain

Periodic duties beside the lanes: take over idle entries (`reclaimInterval`),
renew held entries (every claimIdle/3), refresh queue-depth gauges, trim
acknowledged entries and forget long-gone consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from llmaz_serverless.config import ModelRuntime, RuntimeConfig
from llmaz_serverless.notify.secrets import TenantSecrets
from llmaz_serverless.notify.webhook import WebhookSender
from llmaz_serverless.queue import build_broker
from llmaz_serverless.queue.broker import Broker
from llmaz_serverless.queue.redis_streams import RedisStreamsBroker
from llmaz_serverless.queue.settings import SECTION as QUEUE_SECTION
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.queue.status import StatusStore
from llmaz_serverless.results.objects import build_object_store
from llmaz_serverless.results.store import ResultStore
from llmaz_serverless.worker.jobs import JobProcessor
from llmaz_serverless.worker.lane import Lane
from llmaz_serverless.worker.metrics import WorkerMetrics
from llmaz_serverless.worker.model_client import ModelClient
from llmaz_serverless.worker.notifications import NotificationDispatcher
from llmaz_serverless.worker.settings import WorkerSettings

log = logging.getLogger(__name__)

MAINTAIN_INTERVAL = 30.0
DEPTH_INTERVAL = 2.0


def default_consumer_name() -> str:
    # The pod name in a cluster (hostname); the pid tells local processes apart.
    return f"{socket.gethostname()}-{os.getpid()}"


def served_models(config: RuntimeConfig, settings: QueueSettings) -> dict[str, ModelRuntime]:
    models = {m.name: m for m in config.models}
    if not settings.models:
        return models
    unknown = sorted(set(settings.models) - set(models))
    if unknown:
        raise ValueError(
            f"queue.models names {unknown}, which are not in models[] ({sorted(models)}): "
            "fix the names or add the models"
        )
    return {name: models[name] for name in settings.models}


class WorkerService:
    def __init__(
        self,
        config: RuntimeConfig,
        *,
        settings: WorkerSettings | None = None,
        queue: QueueSettings | None = None,
        consumer: str | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self.config = config
        self.settings = settings or config.section("worker", WorkerSettings)
        self.queue = queue or config.section(QUEUE_SECTION, QueueSettings)
        self.models = served_models(config, self.queue)
        if not self.models:
            raise ValueError("no models to serve: models[] is empty in the runtime config")
        self.consumer = consumer or default_consumer_name()
        self.metrics = metrics or WorkerMetrics()
        self.started = asyncio.Event()
        self._alive_at = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        s, q = self.settings, self.queue
        client = aioredis.Redis.from_url(self.config.redis.url, health_check_interval=30)
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=4.0),
            timeout=aiohttp.ClientTimeout(total=None),
        )
        job_lane, notify_lane = self._lanes(client, session)
        broker, outbox = job_lane.broker, notify_lane.broker
        runner = await self._serve_metrics() if s.metrics_port else None

        fetching = asyncio.Event()  # cleared on stop: the fetch loops end, renewals go on
        periodic: list[asyncio.Task[None]] = []
        try:
            await broker.start()
            await outbox.start()
            lanes = (job_lane, notify_lane)
            fetchers = [asyncio.create_task(lane.fetch_loop(stop)) for lane in lanes]
            periodic = [
                asyncio.create_task(self._every(s.reclaim_interval, stop, self._reclaim(lanes))),
                asyncio.create_task(self._every(max(0.1, q.claim_idle / 3), None, self._renew(lanes))),
                asyncio.create_task(self._every(DEPTH_INTERVAL, stop, self._depth(broker))),
                asyncio.create_task(self._every(MAINTAIN_INTERVAL, stop, self._maintain(broker, outbox))),
            ]
            fetching.set()
            self.started.set()
            log.info("worker %s serving %s via %s", self.consumer, sorted(self.models), q.broker)
            await stop.wait()
            log.info(
                "worker %s stopping: draining %d job(s), %d notification(s) for up to %.0fs",
                self.consumer,
                job_lane.busy,
                notify_lane.busy,
                s.drain_timeout,
            )
            await asyncio.gather(*fetchers)
            deadline = time.monotonic() + s.drain_timeout
            returned = await job_lane.drain(s.drain_timeout)
            returned += await notify_lane.drain(max(0.0, deadline - time.monotonic()))
            log.info("worker %s stopped; %d entr(ies) handed back to the queue", self.consumer, returned)
        finally:
            for task in periodic:
                task.cancel()
            for task in periodic:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await broker.close()
            await session.close()
            await client.aclose()
            if runner is not None:
                await runner.cleanup()

    def _lanes(self, client: aioredis.Redis, session: aiohttp.ClientSession) -> tuple[Lane, Lane]:
        """The two lanes: model jobs from the queue, webhook deliveries from the outbox stream."""
        s, q = self.settings, self.queue
        broker = build_broker(
            q, client, consumer=self.consumer, models=list(self.models), consumer_gc_idle=s.consumer_gc_idle
        )
        outbox = RedisStreamsBroker(
            client,
            group=q.consumer_group,
            consumer=self.consumer,
            streams={q.notify_stream: "notify"},
            claim_idle=q.claim_idle,
            consumer_gc_idle=s.consumer_gc_idle,
        )
        objects = build_object_store(q.object_store)
        status = StatusStore(
            client, key_prefix=q.key_prefix, ttl=q.results.ttl, outbox_stream=q.notify_stream
        )
        results = ResultStore(client, q.results, key_prefix=q.key_prefix, objects=objects)
        jobs = JobProcessor(
            settings=s,
            models=self.models,
            broker=broker,
            status=status,
            results=results,
            client=ModelClient(
                session, model_timeout=s.model_timeout, max_result_bytes=q.payloads.max_bytes, objects=objects
            ),
            metrics=self.metrics,
            consumer=self.consumer,
        )
        notifier = NotificationDispatcher(
            settings=q.notifications,
            outbox=outbox,
            status=status,
            results=results,
            sender=WebhookSender(session, q.notifications, TenantSecrets(q.notifications.secrets_dir)),
            metrics=self.metrics,
            max_attempts=s.max_attempts,
        )
        job_lane = Lane(
            "jobs",
            broker,
            jobs,
            concurrency=s.concurrency,
            on_reclaim=lambda d: self.metrics.reclaimed.labels(self._model_of(d.stream)).inc(),
            on_release=lambda d: self.metrics.jobs.labels(self._model_of(d.stream), "released").inc(),
        )
        notify_lane = Lane("notifications", outbox, notifier, concurrency=q.notifications.concurrency)
        return job_lane, notify_lane

    def _model_of(self, stream: str) -> str:
        """The model of a delivery's location: a Redis stream key, or a NATS subject."""
        if self.queue.broker == "nats":
            from llmaz_serverless.queue.nats_jetstream import subject_token

            prefix = self.queue.nats.subject_prefix
            by_subject = {f"{prefix}.{subject_token(m)}": m for m in self.models}
            return by_subject.get(stream, stream)
        prefix = self.queue.stream_prefix
        return stream[len(prefix) :] if stream.startswith(prefix) else stream

    @staticmethod
    async def _every(seconds: float, stop: asyncio.Event | None, tick: Callable[[], Awaitable[None]]) -> None:
        while stop is None or not stop.is_set():
            try:
                await tick()
            except Exception:
                log.exception("periodic task failed; next try in %.1fs", seconds)
            if stop is None:
                await asyncio.sleep(seconds)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=seconds)

    def _reclaim(self, lanes: tuple[Lane, ...]) -> Callable[[], Awaitable[None]]:
        async def tick() -> None:
            self._alive_at = time.monotonic()
            for lane in lanes:
                await lane.reclaim_once()

        return tick

    @staticmethod
    def _renew(lanes: tuple[Lane, ...]) -> Callable[[], Awaitable[None]]:
        async def tick() -> None:
            for lane in lanes:
                await lane.renew_once()

        return tick

    def _depth(self, broker: Broker) -> Callable[[], Awaitable[None]]:
        async def tick() -> None:
            for model, depth in (await broker.depth()).items():
                self.metrics.queue_depth.labels(model, "lag").set(depth.lag)
                self.metrics.queue_depth.labels(model, "pending").set(depth.pending)

        return tick

    @staticmethod
    def _maintain(*brokers: Broker) -> Callable[[], Awaitable[None]]:
        async def tick() -> None:
            for b in brokers:
                await b.maintain()

        return tick

    async def _serve_metrics(self) -> web.AppRunner:
        async def metrics(_: web.Request) -> web.Response:
            return web.Response(
                body=generate_latest(self.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
            )

        async def healthz(_: web.Request) -> web.Response:
            # Alive while the reclaim loop ticks; a wedged event loop fails the probe.
            stale = time.monotonic() - self._alive_at > max(30.0, 10 * self.settings.reclaim_interval)
            return web.Response(status=503 if stale else 200, text="stale\n" if stale else "ok\n")

        async def readyz(_: web.Request) -> web.Response:
            ready = self.started.is_set()
            return web.Response(status=200 if ready else 503, text="ok\n" if ready else "starting\n")

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/readyz", readyz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.metrics_host, self.settings.metrics_port)
        await site.start()
        return runner
