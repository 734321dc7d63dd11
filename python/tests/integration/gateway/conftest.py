"""Real servers for the gateway tests: emulators, a header-echo upstream, the gateway, Redis."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.emulator import EmulatorServer
from llmaz_serverless.gateway.server import GatewayServer
from llmaz_serverless.gateway.settings import load_settings


@pytest.fixture
def emulator() -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulators (`emulator(model="m", ttft=0.01)`); all are stopped after the test."""
    started: list[EmulatorServer] = []

    def start(**settings: Any) -> EmulatorServer:
        server = EmulatorServer(**{"ttft": 0.005, "itl": 0.001, **settings}).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def gateway(redis_url: str) -> Iterator[Callable[..., GatewayServer]]:
    """Start a gateway for `models` (dicts as in runtime.yaml) with `gateway:` section overrides."""
    started: list[GatewayServer] = []

    def start(
        models: list[dict[str, Any]], environ: dict[str, str] | None = None, **section: Any
    ) -> GatewayServer:
        section = {"host": "127.0.0.1", "port": 0, "shutdownDelay": 0, "shutdownTimeout": 5,
                   "accessLog": False, **section}  # fmt: skip
        runtime = RuntimeConfig.model_validate(
            {"models": models, "redis": {"url": redis_url}, "gateway": section}
        )
        server = GatewayServer(runtime, load_settings(runtime, environ={}), environ=environ or {}).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class EchoUpstream:
    """An upstream that answers every POST with the method, path, headers and body it received."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        seen = {
            "method": request.method,
            "path": request.path,
            # lower-case names: HTTP header names are case-insensitive
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": json.loads(await request.read() or b"null"),
        }
        self.requests.append(seen)
        return web.json_response(seen)

    def start(self) -> EchoUpstream:
        ready = threading.Event()

        async def main() -> None:
            self._stop = asyncio.Event()
            app = web.Application()
            app.router.add_route("POST", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}"
            ready.set()
            await self._stop.wait()
            await runner.cleanup()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(main())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)


@pytest.fixture
def echo() -> Iterator[EchoUpstream]:
    server = EchoUpstream().start()
    yield server
    server.stop()
