"""Real servers for the gateway tests: emulators, a header-echo upstream, the gateway, Redis."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless_testing.appservers import EmulatorServer, GatewayServer, ThreadedAppServer


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
        server = GatewayServer(
            runtime, GatewaySettings.load(runtime, environ={}), environ=environ or {}
        ).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class StubUpstream(ThreadedAppServer):
    """A stand-in upstream on loopback whose every POST is answered by `handle`."""

    thread_name = "stub-upstream"

    def __init__(
        self, handle: Callable[[web.Request], Awaitable[web.StreamResponse]], keepalive_timeout: float = 75.0
    ) -> None:
        super().__init__()
        self.handle = handle
        # How long the server keeps an idle connection (aiohttp's default 75 s).
        self.keepalive_timeout = keepalive_timeout

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def open_site(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=self.keepalive_timeout)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner


class EchoUpstream(StubUpstream):
    """An upstream that answers every POST with the method, path, headers and body it received."""

    def __init__(self) -> None:
        super().__init__(self._handle)
        self.requests: list[dict[str, Any]] = []

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


@pytest.fixture
def echo() -> Iterator[EchoUpstream]:
    server = EchoUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def stub_upstream() -> Iterator[Callable[..., StubUpstream]]:
    """Start stand-in upstreams (`stub_upstream(handle)`); all are stopped after the test."""
    started: list[StubUpstream] = []

    def start(handle: Callable[[web.Request], Awaitable[web.StreamResponse]], **options: Any) -> StubUpstream:
        server = StubUpstream(handle, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
