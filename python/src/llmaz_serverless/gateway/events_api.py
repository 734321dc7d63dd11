"""Event intake and the pre-warm state KEDA reads.

POST /v1/events
    CloudEvents 1.0 over HTTP: structured (`application/cloudevents+json`),
    binary (`ce-*` headers) or batched (`application/cloudevents-batch+json`).
    Same API-key auth as the rest of the gateway. Answers
    - 200 `{"events": [{id, source, type, matched: [rule], actions: [...]}]}`
      when every action ran, or failed for a reason a retry cannot fix (a
      template path the event lacks: reported in the action, counted, logged);
    - 503 + Retry-After (same body) when an action failed on Redis or the queue:
      redeliver the event; pre-warm and submit are idempotent, so the actions
      that did run are not repeated in effect;
    - 4xx in the OpenAI error shape for anything that is not an acceptable
      CloudEvent (not CloudEvents, bad JSON, oversize, too many in a batch);
      nothing of such a request runs.

GET /v1/prewarm/<model>
    `{"model": m, "replicas": N, "windows": [...]}`: the replica floor the
    model's open pre-warm windows ask for (0 when none). This is the URL of the
    `metrics-api` trigger the chart adds to the model's ScaledObject
    (`valueLocation: replicas`, `targetValue: "1"`, so N replicas while a window
    is open). Public unless `events.prewarmEndpointAuth`, because KEDA reads it
    in-cluster and it discloses a replica count only. Model names are the
    runtime names (the OpenAI ids the gateway routes on).

GET /v1/prewarm
    The same for every model a prewarm rule names.

With `events.stream.enabled` the gateway also reads events from a Redis
stream (events/stream.py) through the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from llmaz_serverless.events.dispatch import Dispatcher
from llmaz_serverless.events.intake import BadEvent, Limits, parse_http
from llmaz_serverless.events.metrics import EventMetrics
from llmaz_serverless.events.prewarm import PrewarmState, PrewarmStore
from llmaz_serverless.events.settings import EventsSettings
from llmaz_serverless.events.stream import StreamIntake
from llmaz_serverless.events.submit import Enqueue, Submitter
from llmaz_serverless.gateway.async_api import event_enqueue
from llmaz_serverless.gateway.context import GatewayContext
from llmaz_serverless.gateway.errors import openai_error
from llmaz_serverless.queue.settings import SECTION as QUEUE_SECTION
from llmaz_serverless.queue.settings import QueueSettings

log = logging.getLogger("llmaz_serverless.events")

SECTION = "events"
RETRY_AFTER_SECONDS = "5"

# Checks a request's credentials: None to let it pass, else the response to send.
Authorize = Callable[[web.Request], web.Response | None]


class EventsApi:
    """The handlers, bound to their settings, stores and metrics."""

    def __init__(
        self,
        settings: EventsSettings,
        metrics: EventMetrics,
        known_models: set[str],
        authorize: Authorize | None = None,
    ) -> None:
        self.settings = settings
        self.rules = settings.rule_set()
        self.rules.check_models(known_models)
        self.metrics = metrics
        self.known_models = known_models
        self.prewarm_models = sorted(self.rules.prewarm_models())
        self.authorize = authorize
        self.limits = Limits(settings.max_body_bytes, settings.max_batch_events)
        self.store: PrewarmStore | None = None
        self.dispatcher = Dispatcher(self.rules, metrics, None, None, settings.submit_tenant)

    def bind(self, store: PrewarmStore, submitter: Submitter | None) -> None:
        """Attach the Redis-backed parts once the app's Redis client exists."""
        self.store = store
        self.dispatcher.prewarm = store
        self.dispatcher.submitter = submitter

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/events", self.post_events)
        app.router.add_get("/v1/prewarm", self.list_prewarm)
        app.router.add_get("/v1/prewarm/{model}", self.get_prewarm)

    def public_paths(self) -> set[str]:
        if self.settings.prewarm_endpoint_auth:
            return set()
        return {
            "/v1/prewarm",
            *(f"/v1/prewarm/{m}" for m in sorted(self.known_models | set(self.prewarm_models))),
        }

    def _reject(self, bad: BadEvent) -> web.Response:
        self.metrics.rejected.labels(bad.reason).inc()
        log.info("event rejected reason=%s status=%d: %s", bad.reason, bad.status, bad.message)
        return openai_error(bad.status, bad.message, code=bad.reason, err_type="invalid_event_error")

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self.limits.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise BadEvent(
                413,
                "too_large",
                f"request body is {request.content_length} bytes, over the limit of {limit} "
                "(events.maxBodyBytes); send smaller events or split the batch",
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise BadEvent(
                    413,
                    "too_large",
                    f"request body is over the limit of {limit} bytes (events.maxBodyBytes); "
                    "send smaller events or split the batch",
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def post_events(self, request: web.Request) -> web.Response:
        if self.authorize is not None and (denied := self.authorize(request)) is not None:
            return denied
        try:
            body = await self._read_body(request)
            events = parse_http(request.headers, body, self.limits)
        except BadEvent as bad:
            return self._reject(bad)
        results = [await self.dispatcher.dispatch(event) for event in events]
        access = request.get("log")
        if isinstance(access, dict):  # the gateway's access-log line
            access["events"] = len(events)
            access["event_ids"] = [e.id for e in events][:10]
        payload = {"events": [r.as_json() for r in results]}
        if any(r.retryable_failure for r in results):
            return web.json_response(payload, status=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
        return web.json_response(payload)

    def _prewarm_auth(self, request: web.Request) -> web.Response | None:
        if not self.settings.prewarm_endpoint_auth or self.authorize is None:
            return None
        return self.authorize(request)

    async def _state(self, model: str) -> PrewarmState:
        if self.store is None:
            raise RuntimeError("the pre-warm store is only available while the gateway runs")
        state = await self.store.state(model)
        self.metrics.prewarm_windows.labels(model).set(len(state.windows))
        self.metrics.prewarm_replicas.labels(model).set(state.replicas)
        return state

    async def get_prewarm(self, request: web.Request) -> web.Response:
        if (denied := self._prewarm_auth(request)) is not None:
            return denied
        model = request.match_info["model"]
        if model not in self.known_models and model not in self.prewarm_models:
            known = ", ".join(sorted(self.known_models)) or "none"
            return openai_error(
                404,
                f"model {model!r} is not configured (known: {known})",
                code="model_not_found",
                param="model",
            )
        try:
            state = await self._state(model)
        except Exception as exc:  # KEDA counts the failure and applies the ScaledObject's fallback
            log.warning("pre-warm state of %s unavailable: %s", model, exc)
            return openai_error(503, f"pre-warm state unavailable: {exc}", headers={"Retry-After": "5"})
        return web.json_response(state.as_json())

    async def list_prewarm(self, request: web.Request) -> web.Response:
        if (denied := self._prewarm_auth(request)) is not None:
            return denied
        try:
            states = [await self._state(m) for m in self.prewarm_models]
        except Exception as exc:
            return openai_error(503, f"pre-warm state unavailable: {exc}", headers={"Retry-After": "5"})
        return web.json_response({"models": [s.as_json() for s in states]})

    async def refresh_gauges(self) -> None:
        """Keep the windows-active gauges true between events and KEDA polls."""
        for model in self.prewarm_models:
            await self._state(model)

    async def gauge_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.gauge_refresh_interval)
            try:
                await self.refresh_gauges()
            except Exception as exc:  # Redis blips must not kill the loop
                log.warning("refreshing pre-warm gauges failed: %s", exc)


def lifecycle(
    api: EventsApi, redis_of: Callable[[], object], enqueue: Enqueue | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx entry: bind Redis-backed parts at startup, run the gauge loop."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        redis = redis_of()
        store = PrewarmStore(redis, api.settings.key_prefix)  # type: ignore[arg-type]
        submitter = (
            Submitter(redis, enqueue, api.settings.key_prefix, api.settings.dedupe_ttl)  # type: ignore[arg-type]
            if enqueue is not None
            else None
        )
        api.bind(store, submitter)
        tasks = [asyncio.create_task(api.gauge_loop())] if api.prewarm_models else []
        if api.settings.stream.enabled:
            intake = StreamIntake(
                redis,  # type: ignore[arg-type]
                api.settings.stream,
                api.dispatcher,
                api.metrics,
                api.limits,
                consumer=f"{socket.gethostname()}-{os.getpid()}",
            )
            tasks.append(asyncio.create_task(intake.run()))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return run


def setup(app: web.Application, ctx: GatewayContext) -> None:
    """Gateway route module entry (see gateway/context.py)."""
    settings = ctx.runtime.section(SECTION, EventsSettings)
    if not settings.enabled:
        return
    if not settings.submit_tenant:
        queue = ctx.runtime.section(QUEUE_SECTION, QueueSettings)
        settings = settings.model_copy(update={"submit_tenant": queue.notifications.default_tenant})
    api = EventsApi(
        settings,
        EventMetrics(ctx.metrics.registry),
        {m.name for m in ctx.runtime.models},
        authorize=None,  # the gateway's middleware applies the API key to every non-public path
    )
    api.add_routes(app)
    ctx.public_paths.update(api.public_paths())
    app.cleanup_ctx.append(lifecycle(api, lambda: ctx.redis, _enqueue_for(app, settings)))


def _enqueue_for(app: web.Application, settings: EventsSettings) -> Enqueue | None:
    """The gateway's own async API (gateway/async_api.py) when some rule submits jobs."""
    if not any(a.submit is not None for r in settings.rules if r.enabled for a in r.actions):
        return None
    return event_enqueue(app)
