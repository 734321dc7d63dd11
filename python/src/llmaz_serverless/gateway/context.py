"""`GatewayContext`: what every gateway route module gets, and the module contract.

A route module (e.g. `gateway/async_api.py`, `gateway/events_api.py`) exposes

    def setup(app: web.Application, ctx: GatewayContext) -> None:
        app.router.add_post("/v1/async/chat/completions", submit)
        app.cleanup_ctx.append(my_resources)      # optional: own startup/cleanup
        ctx.public_paths.add("/v1/events/health")  # optional: skip API-key auth

and is listed once in `gateway/app.py:ROUTE_MODULES`. `setup` runs while the
app is built, before the loop serves anything; `ctx.upstream` and `ctx.redis`
exist from app startup to app cleanup, so use them inside handlers or in
startup hooks (`cleanup_ctx` entries run after the gateway's own).
Handlers find the context with `GatewayContext.of(request)`.

The gateway's middleware already applies to every route: API-key auth (unless
the path is in `ctx.public_paths`), the request id (`request[REQUEST_ID]`,
also sent back as a header), a JSON access-log line (add fields to the dict
`request[LOG_FIELDS]`), and OpenAI-shaped errors for uncaught exceptions.
Answer errors with `errors.openai_error(...)` so clients see one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.auth import ApiKeyAuth
from llmaz_serverless.gateway.metrics import GatewayMetrics
from llmaz_serverless.gateway.routing import ModelRoutes
from llmaz_serverless.gateway.settings import GatewaySettings

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from llmaz_serverless.gateway.cache import ResponseCache
    from llmaz_serverless.gateway.upstream import UpstreamPool


T = TypeVar("T")


def _started(resource: T | None, name: str) -> T:
    """A resource the app's startup opens; using it before then (or after cleanup) is a bug."""
    if resource is None:
        raise RuntimeError(f"GatewayContext.{name} is only available while the app runs (after startup)")
    return resource


@dataclass
class GatewayContext:
    # The whole runtime.yaml: `models`, `redis.url` and every component section
    # (`runtime.section("queue", QueueSettings)` reads the queue contract the worker shares).
    runtime: RuntimeConfig
    # The effective `gateway:` section (file, env, flags).
    settings: GatewaySettings
    # Model name / path prefix -> upstream route (URL, Host, headers, timeouts, failover).
    routes: ModelRoutes
    # Prometheus registry served at /metrics; register your collectors on `metrics.registry`.
    metrics: GatewayMetrics
    # API-key check; `auth.check(request)` returns None or the 401 response.
    auth: ApiKeyAuth
    # Paths served without an API key.
    public_paths: set[str] = field(default_factory=lambda: {"/healthz", "/readyz", "/metrics"})
    # True from SIGTERM on: /readyz answers 503 while in-flight work finishes.
    draining: bool = False
    _upstream: UpstreamPool | None = None
    _redis: aioredis.Redis | None = None
    _cache: ResponseCache | None = None

    @property
    def upstream(self) -> UpstreamPool:
        """The one keep-alive pool to the models' upstreams (bodies pass through undecoded)."""
        return _started(self._upstream, "upstream")

    @property
    def redis(self) -> aioredis.Redis:
        """Shared async Redis client of `redis.url` (a connection pool; no command timeout set)."""
        return _started(self._redis, "redis")

    @property
    def cache(self) -> ResponseCache:
        return _started(self._cache, "cache")

    @staticmethod
    def of(request: web.Request) -> GatewayContext:
        return request.app[CONTEXT_KEY]


CONTEXT_KEY = web.AppKey("gateway_context", GatewayContext)
# Per-request values the middleware sets before any handler runs.
REQUEST_ID = web.RequestKey("request_id", str)
# Extra fields for this request's access-log line (`request[LOG_FIELDS]["model"] = name`).
LOG_FIELDS = web.RequestKey("log_fields", dict)
# time.perf_counter() when the middleware took the request.
RECEIVED_AT = web.RequestKey("received_at", float)
