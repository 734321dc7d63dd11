"""The gateway's async API: submit now, fetch the result later (or get a webhook).

POST /v1/async/chat/completions, POST /v1/async/completions
    An OpenAI request body, plus an optional `async` object:
    `{"webhook": URL}` for a signed CloudEvents notification, and
    `{"inputLocation": URI}` to send the body by reference instead (the
    object holds the whole OpenAI body; nothing else may be given inline).
    202 `{"id", "object": "async.job", "status": "queued", "statusUrl", ...}`
    with a `Location` header. Bodies above `queue.payloads.inlineMaxBytes`
    are stored in the object store and queued by reference automatically.
    Errors: 400/404/413 in OpenAI's shape with `param` naming the field.

POST /v1/async/payloads
    Streams the request body into the object store (up to
    `queue.payloads.maxBytes`, 1 GiB by default) and answers 201
    `{"inputLocation", "bytes"}`. For clients that cannot write to the bucket
    or PVC themselves; the body is never held in memory or sent to Redis.

GET /v1/async/{id}
    Status: queued | running | succeeded | failed, attempts, timestamps, the
    last error of a retrying job, the error of a failed one, the webhook
    outcome, and for a success the result inline (results kept in Redis) or
    its location (`resultLocation`, plus a presigned `resultUrl` on S3).

GET /v1/async/{id}/result
    The stored result itself, from whichever store holds it (streamed).

Jobs are scoped to their tenant: another tenant's id answers 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from nats.errors import Error as NatsError
from prometheus_client import CollectorRegistry
from redis.exceptions import RedisError

from llmaz_serverless.backoff import Backoff
from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.events.submit import Enqueue, JobRequest
from llmaz_serverless.gateway.context import GatewayContext
from llmaz_serverless.gateway.errors import openai_error
from llmaz_serverless.metric_set import MetricSet
from llmaz_serverless.openai_paths import ASYNC_PREFIX, CHAT, COMPLETIONS
from llmaz_serverless.queue import build_broker
from llmaz_serverless.queue.broker import Broker
from llmaz_serverless.queue.job import Api, Job
from llmaz_serverless.queue.redis_streams import RedisStreamsBroker
from llmaz_serverless.queue.settings import SECTION as QUEUE_SECTION
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.queue.status import StatusStore
from llmaz_serverless.queue.submit import SubmitError, Submitter
from llmaz_serverless.results.objects import ObjectNotFoundError, build_object_store
from llmaz_serverless.results.store import ResultStore

log = logging.getLogger("llmaz_serverless.gateway.async")

PREFIX = ASYNC_PREFIX
# A job id is one path segment that is not a sibling route's name: without the exclusion
# GET /v1/async/payloads would look up a job "payloads", and a 405 on those paths would
# advertise GET in its Allow header. Job ids are `async-...` or `event-...` (queue/job.py).
JOB_ID_PATTERN = r"(?!(?:completions|payloads)(?:/|$))[^{}/]+"
_UPLOAD_CHUNK = 1 << 20


class AsyncApiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        m = MetricSet(registry, "llmaz_serverless_gateway_async_")
        self.submitted = m.counter(
            "submitted", "Async jobs accepted, by model and form (inline, reference).", ["model", "form"]
        )
        self.rejected = m.counter("rejected", "Async submissions refused, by HTTP status.", ["code"])


@dataclass(kw_only=True, eq=False)
class AsyncApi:
    """Handlers bound to the queue, stores and settings; built at app startup."""

    # Accepts submissions; its settings and status store are this API's too.
    submitter: Submitter
    results: ResultStore
    metrics: AsyncApiMetrics

    @property
    def settings(self) -> QueueSettings:
        return self.submitter.settings

    @property
    def status(self) -> StatusStore:
        return self.submitter.status

    def tenant_of(self, request: web.Request) -> str:
        # An authenticating layer may set request["tenant"]; a header only when the operator trusts it.
        tenant = request.get("tenant")
        header = self.settings.notifications.tenant_header
        if not tenant and header:
            tenant = request.headers.get(header)
        return str(tenant or self.settings.notifications.default_tenant)

    def _error(self, err: SubmitError) -> web.Response:
        self.metrics.rejected.labels(str(err.status)).inc()
        return openai_error(err.status, err.message, code=err.code, param=err.param)

    async def submit(self, request: web.Request, api: Api) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError) as err:
            return self._error(
                SubmitError(400, f"the request body is not valid JSON: {err}", code="invalid_json")
            )
        log_fields = request.get("log")  # the gateway's access-log fields (absent on a bare app)
        if log_fields is not None and isinstance(body, dict) and isinstance(body.get("model"), str):
            log_fields["model"] = body["model"]
        try:
            done = await self.submitter.submit(api, body, tenant=self.tenant_of(request))
        except SubmitError as err:
            return self._error(err)
        job = done.job
        self._accepted(job)
        if log_fields is not None:
            log_fields["job_id"] = job.id
        status_url = f"{PREFIX}/{job.id}"
        return web.json_response(
            {
                "id": job.id,
                "object": "async.job",
                "model": job.model,
                "status": "queued",
                "createdAt": job.created_at,
                "statusUrl": status_url,
                "resultUrl": f"{status_url}/result",
                "inputBytes": done.input_bytes,
            },
            status=202,
            headers={"Location": status_url},
        )

    def _accepted(self, job: Job) -> None:
        self.metrics.submitted.labels(job.model, "reference" if job.input_location else "inline").inc()

    async def enqueue_event(self, req: JobRequest) -> str:
        """Queue a job an event rule submits (events.submit.Enqueue), through this API's own checks,
        broker and metrics; returns the job id. A refused request raises ValueError (permanent)."""
        body = dict(req.body)
        body.setdefault("model", req.model)
        if req.webhook:
            body["async"] = {**(body.get("async") or {}), "webhook": req.webhook}
        extra = {"eventId": req.event_id, "eventSource": req.event_source, "rule": req.rule}
        try:
            done = await self.submitter.submit(
                req.api, body, tenant=req.tenant, job_id=req.job_id, extra=extra
            )
        except SubmitError as err:
            self.metrics.rejected.labels(str(err.status)).inc()
            raise ValueError(f"{err.param or 'body'}: {err.message}") from err
        self._accepted(done.job)
        return done.job.id

    async def submit_chat(self, request: web.Request) -> web.Response:
        return await self.submit(request, "chat")

    async def submit_completions(self, request: web.Request) -> web.Response:
        return await self.submit(request, "completions")

    async def upload(self, request: web.Request) -> web.Response:
        declared = request.content_length
        if declared is not None and declared > self.settings.payloads.max_bytes:
            return self._error(
                SubmitError(413, f"payload of {declared} bytes exceeds queue.payloads.maxBytes "
                                 f"({self.settings.payloads.max_bytes})", code="payload_too_large")
            )  # fmt: skip

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in request.content.iter_chunked(_UPLOAD_CHUNK):
                yield chunk

        try:
            put = await self.submitter.upload(chunks(), tenant=self.tenant_of(request))
        except SubmitError as err:
            return self._error(err)
        return web.json_response({"inputLocation": put.uri, "bytes": put.size}, status=201)

    async def _owned_status(self, request: web.Request) -> dict[str, Any] | web.Response:
        job_id = request.match_info["job_id"]
        status = await self.status.get(job_id)
        if status is None or status.get("tenant", self.tenant_of(request)) != self.tenant_of(request):
            return openai_error(
                404,
                f"no async job {job_id!r} (unknown, expired after queue.results.ttl, or another tenant's)",
                code="job_not_found", param="id",
            )  # fmt: skip
        return status

    async def get_status(self, request: web.Request) -> web.Response:
        status = await self._owned_status(request)
        if isinstance(status, web.Response):
            return status
        return web.json_response(await self.view(status))

    async def view(self, status: dict[str, Any]) -> dict[str, Any]:
        """The client-facing status document."""
        job_id = status["id"]
        out: dict[str, Any] = {
            "id": job_id,
            "object": "async.job",
            "model": status.get("model"),
            "status": status.get("state"),
            "attempts": status.get("attempts", 0),
            "createdAt": status.get("createdAt"),
        }
        for key in ("startedAt", "completedAt", "modelSeconds", "nextAttemptAt", "lastError", "error"):
            if key in status:
                out[key] = status[key]
        if status.get("webhook"):
            out["notification"] = status.get("notification") or {"state": "pending"}
        location = status.get("result")
        if status.get("state") == "succeeded" and location:
            out["resultLocation"] = {k: v for k, v in location.items() if k != "key"}
            out["resultUrl"] = await self.results.url(location) or f"{PREFIX}/{job_id}/result"
            if (
                location.get("store") == "redis"
                and location.get("contentType", "application/json") == "application/json"
            ):
                data = await self.results.get(job_id, location)
                if data is not None:
                    out["result"] = json.loads(data)
        return out

    async def get_result(self, request: web.Request) -> web.StreamResponse:
        status = await self._owned_status(request)
        if isinstance(status, web.Response):
            return status
        location = status.get("result")
        if status.get("state") != "succeeded" or not location:
            return openai_error(
                409, f"job {status['id']} has no result: its status is {status.get('state')!r}",
                code="result_not_ready", param="id",
            )  # fmt: skip
        response = web.StreamResponse(
            headers={"Content-Type": location.get("contentType", "application/json")}
        )
        try:
            stream = self.results.stream(status["id"], location)
            first = await anext(stream)
        except (ObjectNotFoundError, StopAsyncIteration):
            return openai_error(
                410, f"the result of job {status['id']} is no longer stored", code="result_gone"
            )
        await response.prepare(request)
        await response.write(first)
        async for chunk in stream:
            await response.write(chunk)
        await response.write_eof()
        return response


API_KEY = web.AppKey("async_api", AsyncApi)


def build_api(runtime: RuntimeConfig, redis: Any, registry: CollectorRegistry) -> tuple[AsyncApi, Broker]:
    settings = runtime.section(QUEUE_SECTION, QueueSettings)
    objects = build_object_store(settings.object_store)
    # The streams and consumer groups of every model exist from the gateway's start: KEDA's
    # redis-streams lag trigger errors (NOGROUP) until they do, and before the first job no
    # worker (at zero) would have created them.
    broker = build_broker(settings, redis, consumer="gateway", models=[m.name for m in runtime.models])
    status = StatusStore(redis, key_prefix=settings.key_prefix, ttl=settings.results.ttl,
                         outbox_stream=settings.notify_stream)  # fmt: skip
    submitter = Submitter(
        settings=settings, models={m.name: m for m in runtime.models}, broker=broker, status=status,
        objects=objects,
    )  # fmt: skip
    api = AsyncApi(
        submitter=submitter,
        results=ResultStore(redis, settings.results, key_prefix=settings.key_prefix, objects=objects),
        metrics=AsyncApiMetrics(registry),
    )
    return api, broker


def add_routes(app: web.Application, api_of: Callable[[], AsyncApi]) -> None:
    """Routes that resolve the API per request (it is built at startup, after routing)."""

    def bound(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await getattr(api_of(), name)(request)

        return handler

    app.router.add_post(CHAT.async_path, bound("submit_chat"))
    app.router.add_post(COMPLETIONS.async_path, bound("submit_completions"))
    app.router.add_post(f"{PREFIX}/payloads", bound("upload"))
    app.router.add_get(PREFIX + "/{job_id:" + JOB_ID_PATTERN + "}", bound("get_status"))
    app.router.add_get(PREFIX + "/{job_id:" + JOB_ID_PATTERN + "}/result", bound("get_result"))


# Retries of declare_streams while Redis does not answer: 0.5 s doubling to 30 s.
DECLARE_BACKOFF = Backoff(initial=0.5, max=30.0)


async def declare_streams(
    broker: Broker, redis: Any, settings: QueueSettings, backoff: Backoff = DECLARE_BACKOFF
) -> None:
    """Create every model's stream, the notification outbox and their consumer group, until it works.

    With `broker: nats` the broker's start makes the JetStream stream and each model's consumer
    instead (KEDA's nats-jetstream trigger reads a missing consumer as a backlog that never drains).
    KEDA's redis-streams lag triggers read these groups and fail (NOGROUP) until they exist;
    before the first job nothing else makes them (the worker is at zero), and the worker's
    ScaledObject then never turns Ready. Runs beside the gateway, not before it: the gateway
    serves synchronous traffic while Redis is down, and keeps trying here.
    """
    outbox = RedisStreamsBroker(
        redis, group=settings.consumer_group, consumer="gateway", streams={settings.notify_stream: "notify"}
    )
    attempt = 0
    while True:
        try:
            await broker.start()
            await outbox.start()
            return
        except (OSError, ConnectionError, RedisError, NatsError) as err:
            attempt += 1
            delay = backoff.delay(attempt)
            log.warning("could not create the async streams' consumer groups yet (retrying in %.0f s): %s",
                        delay, err)  # fmt: skip
            await asyncio.sleep(delay)


def lifecycle(
    runtime: RuntimeConfig, redis_of: Callable[[], Any], registry: CollectorRegistry
) -> Callable[[web.Application], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        redis = redis_of()
        api, broker = build_api(runtime, redis, registry)
        declaring = asyncio.create_task(declare_streams(broker, redis, api.settings))
        app[API_KEY] = api
        yield
        declaring.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await declaring
        await broker.close()

    return ctx


def setup(app: web.Application, ctx: GatewayContext) -> None:
    """Gateway route module entry (see gateway/context.py)."""
    # A bad `queue:` section fails the gateway at build time, naming the key.
    ctx.runtime.section(QUEUE_SECTION, QueueSettings)
    add_routes(app, lambda: app[API_KEY])
    app.cleanup_ctx.append(lifecycle(ctx.runtime, lambda: ctx.redis, ctx.metrics.registry))


def setup_standalone(app: web.Application, runtime: RuntimeConfig, redis_of: Callable[[], Any],
                     registry: CollectorRegistry | None = None) -> None:  # fmt: skip
    """The same routes on a bare aiohttp app (tests, or an async-only front door)."""
    add_routes(app, lambda: app[API_KEY])
    app.cleanup_ctx.append(lifecycle(runtime, redis_of, registry or CollectorRegistry()))


def event_enqueue(app: web.Application) -> Enqueue:
    """The event intake's `events.submit.Enqueue`: this app's AsyncApi, so event jobs share its broker
    and are counted in the gateway's metrics. Resolved per call: the API is built at startup."""

    async def enqueue(req: JobRequest) -> str:
        return await app[API_KEY].enqueue_event(req)

    return enqueue
