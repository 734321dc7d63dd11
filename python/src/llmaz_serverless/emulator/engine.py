"""The emulated engine: load phases, generation slots, failure injection, live state.

Phases follow a serverless model's life: `zero` (no replica), `loading` (a
replica is up, weights are loading: /health answers 503) and `ready`. A request
arriving at zero wakes the model; with `hold_while_loading` it waits for the
load like a request held by the KEDA HTTP interceptor, otherwise it gets 503
like a request reaching a server that is still loading.

When to drop to zero is the package's one scale-to-zero rule (scale_to_zero.py) with
room for one replica; this module adds what that rule leaves to the replica: the load
(the cold-start delay), the slots and the vLLM metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import math
import random
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any

from pydantic.alias_generators import to_camel

from llmaz_serverless.emulator.metrics import VllmMetrics
from llmaz_serverless.emulator.settings import EmulatorSettings
from llmaz_serverless.scale_to_zero import ScaleToZeroRule, ScaleToZeroSettings


class Phase(enum.StrEnum):
    ZERO = "zero"
    LOADING = "loading"
    READY = "ready"


@dataclass
class Totals:
    """Counts since the emulator started; /emulator/state reports each as `<camelName>Total`."""

    # Generation requests received (before any check).
    requests: int = 0
    completed: int = 0
    # Failed by fail_first or fail_rate.
    failed: int = 0
    # The client went away mid-request.
    cancelled: int = 0
    # Answered 503 because the model was loading and hold_while_loading is off.
    rejected_loading: int = 0
    # Loads begun: the one at start (unless starting at zero) and every cold start.
    loads: int = 0
    # Loads begun by a request arriving at zero.
    cold_starts: int = 0

    def state(self) -> dict[str, int]:
        """The totals under their /emulator/state keys (`requestsTotal`, `coldStartsTotal`, ...)."""
        return {to_camel(name) + "Total": value for name, value in asdict(self).items()}


class Engine:
    """State shared by the handlers of one emulator; lives on one event loop."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.timing = settings.timing
        self.metrics = VllmMetrics(settings.model)
        # Seeded by model and seed: two emulators never sample the same text sequence.
        self.text_rng = random.Random(f"text:{settings.model}:{settings.seed}")
        self._failure_rng = random.Random(f"failures:{settings.seed}")
        self.phase = Phase.ZERO
        self.started_at = time.time()
        self._loaded = asyncio.Event()
        self._load_task: asyncio.Task[None] | None = None
        self._idle_task: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        # Without scale_to_zero_after the replica never goes (the idle task does not even run).
        idle = settings.scale_to_zero_after or math.inf
        self.scaling = ScaleToZeroRule(
            ScaleToZeroSettings(max_replicas=1, scale_to_zero_after=idle), last_activity=time.monotonic()
        )
        self._kv_reserved = 0
        self.running = 0
        self.waiting = 0
        # Requests held while the model loads (hold_while_loading).
        self.holding = 0
        self.totals = Totals()
        # Generation requests admitted since the last load (drives fail_first, cold_requests).
        self.served_since_load = 0
        self.loaded_at: float | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> None:
        """Begin the first load (the process just started, so a replica exists), unless starting at zero."""
        if not self.settings.start_at_zero:
            self._begin_load()
        if self.settings.scale_to_zero_after is not None:
            self._idle_task = asyncio.get_running_loop().create_task(self._scale_to_zero_when_idle())

    async def close(self) -> None:
        for task in (self._load_task, self._idle_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _begin_load(self) -> None:
        self.phase = Phase.LOADING
        self.totals.loads += 1
        self._loaded.clear()
        if self.settings.startup_delay <= 0:
            self._finish_load()
            return
        self._load_task = asyncio.get_running_loop().create_task(self._load())

    async def _load(self) -> None:
        await asyncio.sleep(self.settings.startup_delay)
        self._finish_load()

    def _finish_load(self) -> None:
        self.phase = Phase.READY
        self.loaded_at = time.time()
        self.served_since_load = 0
        self.scaling.activity(time.monotonic())  # idle time counts from the end of a load
        self._loaded.set()

    async def _scale_to_zero_when_idle(self) -> None:
        idle_after = self.settings.scale_to_zero_after or 0.0
        while True:
            await asyncio.sleep(max(0.05, min(idle_after / 4, 1.0)))
            in_flight = self.running + self.waiting
            if self.phase is Phase.READY and self.scaling.decide(time.monotonic(), 1, in_flight) == 0:
                self.phase = Phase.ZERO
                self.loaded_at = None
                self._loaded.clear()

    def touch(self) -> None:
        self.scaling.activity(time.monotonic(), self.running + self.waiting)

    def wake(self) -> None:
        """A request arrived: at zero, start a replica (a cold start)."""
        self.touch()
        if self.phase is Phase.ZERO:
            self.totals.cold_starts += 1
            self._begin_load()

    async def wait_loaded(self) -> None:
        self.holding += 1
        try:
            await self._loaded.wait()
        finally:
            self.holding -= 1

    @property
    def ready(self) -> bool:
        return self.phase is Phase.READY

    # -- per request -----------------------------------------------------

    def draw_failure(self) -> int | None:
        """Status to fail this request with, or None. Counts the request as admitted."""
        self.served_since_load += 1
        s = self.settings
        if self.served_since_load <= s.fail_first or (
            s.fail_rate > 0 and self._failure_rng.random() < s.fail_rate
        ):
            self.totals.failed += 1
            return s.fail_status
        return None

    def slowdown(self) -> float:
        """Factor on TTFT and inter-token delay: >1 for the first requests after a load."""
        # Requests failed by fail_first never reached the "GPU", so they do not warm it.
        return self.timing.slowdown(self.served_since_load - self.settings.fail_first)

    @contextlib.asynccontextmanager
    async def slot(self, kv_tokens: int) -> AsyncIterator[float]:
        """Hold a generation slot; yields the seconds spent queued for it."""
        m = self.metrics
        queued_at = time.monotonic()
        self.waiting += 1
        m.waiting.set(self.waiting)
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
            m.waiting.set(self.waiting)
        queue_time = time.monotonic() - queued_at
        m.queue_time.observe(queue_time)
        self.running += 1
        m.running.set(self.running)
        self._reserve_kv(kv_tokens)
        try:
            yield queue_time
        finally:
            self.running -= 1
            m.running.set(self.running)
            self._reserve_kv(-kv_tokens)
            self._slots.release()
            self.touch()

    def _reserve_kv(self, tokens: int) -> None:
        self._kv_reserved += tokens
        usage = min(1.0, self._kv_reserved / self.settings.kv_cache_tokens)
        self.metrics.gpu_cache_usage.set(usage)
        self.metrics.kv_cache_usage.set(usage)

    def snapshot(self) -> dict[str, Any]:
        """Live state for the load-test sampler (GET /emulator/state)."""
        return {
            "model": self.settings.model,
            "phase": str(self.phase),
            "replicas": 0 if self.phase is Phase.ZERO else 1,
            "readyReplicas": 1 if self.phase is Phase.READY else 0,
            "running": self.running,
            "waiting": self.waiting,
            "holding": self.holding,
            "inFlight": self.running + self.waiting + self.holding,
            **self.totals.state(),
            "kvCacheUsage": min(1.0, self._kv_reserved / self.settings.kv_cache_tokens),
            "startedAt": self.started_at,
            "loadedAt": self.loaded_at,
            "time": time.time(),
        }
