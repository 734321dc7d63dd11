"""The emulator's aiohttp application: OpenAI endpoints plus the server's own probes.

Routes: POST /v1/completions, POST /v1/chat/completions, GET /v1/models,
GET /health (200 when loaded, 503 while at zero or loading, like vLLM),
GET /metrics (vLLM names), GET /emulator/state (JSON for the load-test
sampler: replicas, ready replicas, running, waiting, counters).
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from llmaz_serverless.emulator.engine import Engine
from llmaz_serverless.emulator.openai import ENGINE_KEY, chat_completions, completions
from llmaz_serverless.emulator.settings import EmulatorSettings
from llmaz_serverless.openai_paths import CHAT, COMPLETIONS, MODELS


async def health(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    # A health probe must never wake a model at zero.
    return web.Response(status=200 if engine.ready else 503)


async def models(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    model = engine.settings.model
    return web.json_response(
        {
            "object": "list",
            "data": [
                {
                    "id": model,
                    "object": "model",
                    "created": int(engine.started_at),
                    "owned_by": "llmaz-serverless-emulator",
                    "root": model,
                    "parent": None,
                }
            ],
        }
    )


async def metrics(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    return web.Response(
        body=generate_latest(engine.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[ENGINE_KEY].snapshot())


def build_app(settings: EmulatorSettings) -> web.Application:
    """The application; the engine starts loading when the app starts."""
    app = web.Application()
    engine = Engine(settings)
    app[ENGINE_KEY] = engine

    async def lifecycle(_: web.Application):  # type: ignore[no-untyped-def]
        engine.start()
        yield
        await engine.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post(COMPLETIONS.path, completions)
    app.router.add_post(CHAT.path, chat_completions)
    app.router.add_get(MODELS.path, models)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/emulator/state", state)
    return app
