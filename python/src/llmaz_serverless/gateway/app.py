"""Builds the gateway application from the runtime config.

`ROUTE_MODULES` is the explicit list of route modules; each exposes
`setup(app, ctx)` (see `context.py` for the contract). To add one, import it
here and append it to the tuple, nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import redis.asyncio as aioredis
from aiohttp import web

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway import async_api, events_api, openapi, ops, proxy
from llmaz_serverless.gateway.auth import ApiKeyAuth
from llmaz_serverless.gateway.cache import ResponseCache
from llmaz_serverless.gateway.context import CONTEXT_KEY, GatewayContext
from llmaz_serverless.gateway.metrics import GatewayMetrics
from llmaz_serverless.gateway.middleware import gateway_middleware, stamp_request_id
from llmaz_serverless.gateway.routing import ModelRoutes
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless.gateway.upstream import UpstreamPool

# Route modules, in registration order.
# async_api before events_api: its startup builds the AsyncApi that event submits use.
ROUTE_MODULES = (ops, proxy, async_api, events_api, openapi)


def build_context(
    runtime: RuntimeConfig, settings: GatewaySettings, environ: Mapping[str, str] | None = None
) -> GatewayContext:
    return GatewayContext(
        runtime=runtime,
        settings=settings,
        routes=ModelRoutes(runtime),
        metrics=GatewayMetrics(),
        auth=ApiKeyAuth(settings.auth, environ),
    )


def build_app(
    runtime: RuntimeConfig, settings: GatewaySettings, environ: Mapping[str, str] | None = None
) -> web.Application:
    """The app; raises ValueError naming the field when the config cannot work."""
    ctx = build_context(runtime, settings, environ)
    # client_max_size: aiohttp's own guard for bodies without Content-Length.
    app = web.Application(middlewares=[gateway_middleware], client_max_size=settings.max_body_bytes)
    app[CONTEXT_KEY] = ctx
    app.on_response_prepare.append(stamp_request_id)

    async def clients(_: web.Application) -> AsyncIterator[None]:
        up = settings.upstream
        # No total or read timeout: streams last as long as they last; the
        # cold-start budget and request deadline are enforced per request.
        ctx._upstream = UpstreamPool(
            keepalive_timeout=up.keepalive_timeout,
            connect_timeout=up.connect_timeout,
            max_connections=up.max_connections,
            max_connections_per_host=up.max_connections_per_host,
        )
        ctx._redis = aioredis.Redis.from_url(runtime.redis.url, socket_connect_timeout=2.0)
        ctx._cache = ResponseCache(ctx._redis, settings.cache, ctx.metrics.cache_errors)
        yield
        await ctx._upstream.close()
        await ctx._redis.aclose()

    app.cleanup_ctx.append(clients)
    for module in ROUTE_MODULES:
        module.setup(app, ctx)
    return app
