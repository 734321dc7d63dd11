"""Seeing the first user token of a freshly warmed replica on the model server's own metrics.

The controller is not on the request path, so it cannot see user requests. But
vLLM and SGLang count every first token they produce (the `_count` of their
time-to-first-token histograms). Read right before the readiness gate opens, the
counter includes exactly the warmup's requests, because no user request can reach
a pod that is not Ready yet. The first rise after that is the first user token.
The moment is known to within one poll interval; the watch gives up after a
window so a woken model that gets no traffic costs nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from llmaz_serverless.warmup.kube import now_utc


def counter_value(text: str, sample_name: str) -> float | None:
    """Sum of a sample over all its label sets in Prometheus text format; None when absent."""
    total: float | None = None
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == sample_name:
                    total = (total or 0.0) + float(sample.value)
    except ValueError:
        return None  # not Prometheus text: treat as not observable
    return total


@dataclass(eq=False)
class FirstTokenWatcher:
    # The warmup client's session, looked up at each read (the client opens it lazily).
    session: Callable[[], aiohttp.ClientSession]
    poll_interval_s: float
    window_s: float
    clock: Callable[[], dt.datetime] = now_utc

    async def read(self, url: str, sample_name: str) -> float | None:
        try:
            async with asyncio.timeout(5.0):
                async with self.session().get(url) as resp:
                    if resp.status != 200:
                        return None
                    return counter_value(await resp.text(errors="replace"), sample_name)
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def wait_for_first(self, url: str, sample_name: str, baseline: float) -> dt.datetime | None:
        """Poll until the counter passes `baseline`; the moment it was seen, or None after the window."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.window_s
        while loop.time() < give_up:
            await asyncio.sleep(min(self.poll_interval_s, max(give_up - loop.time(), 0.0)))
            value = await self.read(url, sample_name)
            if value is not None and value > baseline:
                return self.clock()
        return None
