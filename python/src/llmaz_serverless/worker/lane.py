"""A lane: one consumer of one broker with bounded concurrency.

The worker runs two lanes, jobs and notifications, so slow webhooks never take
job slots. A lane fetches only as many entries as it has free slots, takes
over idle entries (dead workers, due retries), renews the entries it holds
while they run, and on shutdown waits for them, then hands the rest back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field

from llmaz_serverless.queue.broker import Broker, Delivery

log = logging.getLogger(__name__)

Handler = Callable[[Delivery], Awaitable[None]]


@dataclass(eq=False)
class Lane:
    # Names the lane's tasks and log lines ("jobs", "notifications").
    name: str
    broker: Broker
    handler: Handler
    _: KW_ONLY
    # Deliveries handled at once; the lane fetches no more than its free slots.
    concurrency: int
    # Called for each entry taken over from an idle consumer (the worker counts them).
    on_reclaim: Callable[[Delivery], None] | None = None
    # Called for each entry handed back unfinished by drain() at shutdown.
    on_release: Callable[[Delivery], None] | None = None
    _tasks: dict[asyncio.Task[None], Delivery] = field(default_factory=dict, init=False)

    @property
    def busy(self) -> int:
        return len(self._tasks)

    @property
    def free(self) -> int:
        return max(0, self.concurrency - len(self._tasks))

    def holding(self) -> list[Delivery]:
        return list(self._tasks.values())

    def spawn(self, delivery: Delivery) -> None:
        task = asyncio.create_task(self._run(delivery), name=f"{self.name}:{delivery.entry_id}")
        self._tasks[task] = delivery
        task.add_done_callback(self._tasks.pop)

    async def _run(self, delivery: Delivery) -> None:
        try:
            await self.handler(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Left pending on purpose: another attempt happens after claimIdle.
            log.exception(
                "%s: unexpected error on entry %s of %s", self.name, delivery.entry_id, delivery.stream
            )

    async def _wait_for_slot(self, stop: asyncio.Event) -> None:
        while not self.free and not stop.is_set():
            await asyncio.wait(list(self._tasks), timeout=0.5, return_when=asyncio.FIRST_COMPLETED)

    async def fetch_loop(self, stop: asyncio.Event, block: float = 0.5) -> None:
        while not stop.is_set():
            await self._wait_for_slot(stop)
            if stop.is_set():
                break
            try:
                # Never cancelled mid-call: entries handed to us must reach a task.
                deliveries = await self.broker.fetch(self.free, block)
            except Exception:
                log.exception("%s: fetch failed; retrying in 1s", self.name)
                await _sleep_or_stop(stop, 1.0)
                continue
            if stop.is_set():
                # Delivered while the read was blocking on shutdown: not ours to start now.
                for d in deliveries:
                    await self._hand_back(d)
                break
            for d in deliveries:
                self.spawn(d)

    async def reclaim_once(self) -> int:
        if not self.free:
            return 0
        taken = await self.broker.reclaim(self.free)
        for d in taken:
            if self.on_reclaim:
                self.on_reclaim(d)
            self.spawn(d)
        return len(taken)

    async def renew_once(self) -> None:
        held = self.holding()
        if not held:
            return
        lost = await self.broker.renew(held)
        for d in lost:
            log.warning(
                "%s: entry %s of %s was taken over by another worker", self.name, d.entry_id, d.stream
            )

    async def drain(self, budget: float) -> int:
        """Wait up to `budget` seconds for running entries, then hand back the rest; returns how many."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=budget)
        left = dict(self._tasks)
        for task in left:
            task.cancel()
        for task, delivery in left.items():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._hand_back(delivery)
        return len(left)

    async def _hand_back(self, delivery: Delivery) -> None:
        try:
            await self.broker.release(delivery)
            if self.on_release:
                self.on_release(delivery)
        except Exception:
            log.exception(
                "%s: could not hand back entry %s; it is reclaimed after claimIdle",
                self.name,
                delivery.entry_id,
            )


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
