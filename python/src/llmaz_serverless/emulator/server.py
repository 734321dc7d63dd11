"""Running the emulator in the foreground for the CLI (`llmaz-serverless sim`, `up`).

Tests run it in a thread with `llmaz_serverless_testing.appservers.EmulatorServer`.
"""

from __future__ import annotations

import asyncio
import gc
import signal

from aiohttp import web

from llmaz_serverless.emulator.app import build_app
from llmaz_serverless.emulator.settings import EmulatorSettings


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    # handler_cancellation: a client that disconnects cancels its handler, so the
    # emulator frees the slot and counts the abort like vLLM does.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    return runner, site.port  # the bound port once started (port 0 picks a free one)


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
