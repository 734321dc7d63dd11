"""Probes, metrics and the model list.

GET /healthz: the process answers (liveness). GET /readyz: 503 once draining
after SIGTERM, else 200 with Redis reachability in the body (a Redis outage
only disables the cache, so it does not take the gateway out of service).
GET /metrics: Prometheus text. GET /v1/models: the configured models, from
the config alone: listing models must never wake a model that is at zero.
"""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from llmaz_serverless.gateway.context import GatewayContext
from llmaz_serverless.openai_paths import MODELS

_STARTED_AT = int(time.time())


def setup(app: web.Application, ctx: GatewayContext) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get(MODELS.path, models)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    if ctx.draining:
        return web.json_response({"status": "draining"}, status=503)
    try:
        async with asyncio.timeout(ctx.settings.cache.redis_timeout * 4):
            await ctx.redis.ping()
        redis_state = "ok"
    except (TimeoutError, aioredis.RedisError, OSError) as err:
        redis_state = f"unreachable ({type(err).__name__}); cache disabled until it answers"
    return web.json_response({"status": "ready", "models": len(ctx.routes.names), "redis": redis_state})


async def metrics(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    return web.Response(
        body=generate_latest(ctx.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def models(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    data = [
        {"id": route.name, "object": "model", "created": _STARTED_AT, "owned_by": "llmaz-serverless"}
        for route in ctx.routes
    ]
    return web.json_response({"object": "list", "data": data})
