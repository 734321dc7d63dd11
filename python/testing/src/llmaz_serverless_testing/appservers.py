"""An aiohttp app served on its own event loop in a daemon thread.

Tests, benchmarks and the load-test stack run the gateway and the emulator
in-process this way: `start()` returns once the site is bound (port 0 picks
a free port) or raises the error that stopped it; `stop()` or leaving the
`with` block shuts the site down and joins the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web


class ThreadedAppServer:
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
