"""Running the emulator: in a background thread for tests, or in the foreground for the CLI.

    with EmulatorServer(model="m", ttft=0.01, startup_delay=2) as sim:
        httpx.post(f"{sim.url}/v1/completions", json={...})
        sim.state()["running"]

`EmulatorServer` binds before `start()` returns (port 0 picks a free port),
runs its own event loop in a daemon thread and stops on `stop()` or on
leaving the `with` block.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from typing import Any

from aiohttp import web

from llmaz_serverless.emulator.app import build_app
from llmaz_serverless.emulator.engine import Engine
from llmaz_serverless.emulator.openai import ENGINE_KEY
from llmaz_serverless.emulator.settings import EmulatorSettings
from llmaz_serverless.threadserver import ThreadedAppServer


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    # handler_cancellation: a client that disconnects cancels its handler, so the
    # emulator frees the slot and counts the abort like vLLM does.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    return runner, site.port  # the bound port once started (port 0 picks a free one)


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
        app = build_app(self.settings)
        runner, self.port = await start_site(app, self.settings.host, self.settings.port)
        self._engine = app[ENGINE_KEY]
        return runner


async def serve(settings: EmulatorSettings, ready_message: bool = True) -> None:
    """Serve in the foreground until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = build_app(settings)
    runner, port = await start_site(app, settings.host, settings.port)
    # Like the gateway: no full-heap GC pauses from objects allocated at startup.
    gc.collect()
    gc.freeze()
    if ready_message:
        print(
            f"emulator: model {settings.model} on http://{settings.host}:{port} "
            f"(startup delay {settings.startup_delay}s, ttft {settings.ttft}s, itl {settings.itl}s)",
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
