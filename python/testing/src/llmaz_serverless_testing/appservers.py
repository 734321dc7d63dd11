"""The gateway and the emulator on their own event loop in a daemon thread, for tests and benchmarks.

    with EmulatorServer(model="m", ttft=0.01, startup_delay=2) as sim:
        httpx.post(f"{sim.url}/v1/completions", json={...})
        sim.state()["running"]
    with GatewayServer(runtime, settings) as gw:   # settings.port 0: a free port
        httpx.post(f"{gw.url}/v1/chat/completions", json=...)

`ThreadedAppServer` is their base: `start()` returns once the site is bound (port 0 picks
a free port) or raises the error that stopped it; `stop()` or leaving the
`with` block shuts the site down and joins the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from typing import Any, Self

from aiohttp import web

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.emulator.app import build_app as build_emulator_app
from llmaz_serverless.emulator.engine import Engine
from llmaz_serverless.emulator.openai import ENGINE_KEY
from llmaz_serverless.emulator.server import start_site as start_emulator_site
from llmaz_serverless.emulator.settings import EmulatorSettings
from llmaz_serverless.gateway.app import build_app as build_gateway_app
from llmaz_serverless.gateway.context import CONTEXT_KEY, GatewayContext
from llmaz_serverless.gateway.server import loop_factory
from llmaz_serverless.gateway.server import start_site as start_gateway_site
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless.launcher import StartStop


class ThreadedAppServer(StartStop):
    """Subclasses build and bind their app in `open_site()` and may keep what they need from it."""

    thread_name = "app-server"
    stop_timeout = 15.0

    def __init__(self, port: int = 0) -> None:
        self.port = port
        # What makes the thread's event loop; subclasses may run on another loop (uvloop).
        self.loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    async def open_site(self) -> web.AppRunner:
        """Build the app, start its site, set `self.port` to the bound port; return the runner."""
        raise NotImplementedError

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not self._started.wait(timeout=30):
            raise TimeoutError(f"{self.thread_name} did not start within 30s")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = self.loop_factory()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            runner = await self.open_site()
        except BaseException as err:  # reported to the thread that called start()
            self._error = err
            self._started.set()
            return
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=self.stop_timeout)
            self._thread = None


class EmulatorServer(ThreadedAppServer):
    """One emulator on its own event loop in a daemon thread."""

    def __init__(self, settings: EmulatorSettings | None = None, **overrides: Any) -> None:
        base = settings.model_dump() if settings is not None else {"port": 0}
        self.settings = EmulatorSettings.model_validate({**base, **overrides})
        super().__init__(self.settings.port)
        self.thread_name = f"emulator-{self.settings.model}"
        self._engine: Engine | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    @property
    def engine(self) -> Engine:
        """The live engine; read its counters, do not call its coroutines from another thread."""
        assert self._engine is not None, "start() the server first"
        return self._engine

    def state(self) -> dict[str, Any]:
        return self.engine.snapshot()

    async def open_site(self) -> web.AppRunner:
        app = build_emulator_app(self.settings)
        runner, self.port = await start_emulator_site(app, self.settings.host, self.settings.port)
        self._engine = app[ENGINE_KEY]
        return runner


class GatewayServer(ThreadedAppServer):
    """The gateway on its own event loop in a daemon thread (tests, benchmarks)."""

    thread_name = "gateway"
    stop_timeout = 30.0

    def __init__(
        self,
        runtime: RuntimeConfig,
        settings: GatewaySettings | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings = settings or GatewaySettings(
            host="127.0.0.1", port=0, shutdown_delay=0, shutdown_timeout=5
        )
        self.environ = environ
        super().__init__(self.settings.port)
        self.loop_factory = loop_factory(self.settings)
        self.ctx: GatewayContext | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def open_site(self) -> web.AppRunner:
        app = build_gateway_app(self.runtime, self.settings, self.environ)
        runner, self.port = await start_gateway_site(app, self.settings)
        self.ctx = app[CONTEXT_KEY]
        return runner
