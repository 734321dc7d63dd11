"""Cache hits sent from their own process while bench_gateway.py loads the gateway.

    python hits_under_load.py URL CLIENTS PAUSE    # the child; bench_gateway.py starts it

Why a process of its own: in the load generator's event loop, a hit's time
would include waiting behind the 64 streams that loop is reading, which is
the instrument, not the gateway. Here `CLIENTS` clients each send a cached
request, read the answer, pause `PAUSE` s and go again, until stdin closes;
then the child prints one JSON object: each hit's start (CLOCK_MONOTONIC,
which every process on the machine shares) and time, and the count of
answers that were not hits.

The parent side (`HitsUnderLoad`) also samples the host's CPU steal every
second, so hits in seconds the hypervisor took CPU away can be set apart, as
bench_gateway.py does for whole rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
import time
from pathlib import Path

import aiohttp

# Most hits one child records (a bound on its memory, far above a run's count).
MAX_HITS = 100_000
# Length of one steal sample, s: 200 ticks on 2 vCPUs at 100 Hz, so 1% is two ticks.
STEAL_WINDOW = 1.0


def cached_bodies(model: str, count: int, stream: bool) -> list[bytes]:
    """Greedy requests (temperature 0): the gateway caches their answers."""
    return [
        json.dumps({"model": model, "prompt": f"cached prompt {i}", "temperature": 0, "max_tokens": 32,
                    "stream": stream}).encode()
        for i in range(count)
    ]  # fmt: skip


def hit_bodies() -> list[bytes]:
    """The requests of the hits under load; bench_gateway.py caches their answers first."""
    return cached_bodies("bench", 16, stream=False)


def host_cpu_ticks() -> tuple[int, int]:
    """(steal, all) CPU ticks of the machine so far, from /proc/stat.

    Steal is time the hypervisor gave this VM's vCPUs to someone else: on a
    shared host it lands in the tail of every path, and the load average does
    not show it.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Share of the CPU time between two `host_cpu_ticks()` readings that went to steal."""
    return (after[0] - before[0]) / max(after[1] - before[1], 1)


async def send_hits(url: str, clients: int, pause: float, stop: asyncio.Event) -> dict:
    bodies = hit_bodies()
    hits: list[tuple[float, float]] = []
    not_hits = 0

    async def client(http: aiohttp.ClientSession, k: int) -> None:
        nonlocal not_hits
        n = k
        while not stop.is_set() and len(hits) < MAX_HITS:
            body = bodies[n % len(bodies)]
            n += clients
            start = time.monotonic()
            async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                await resp.read()
                not_hits += resp.headers.get("X-Cache") != "HIT"
            hits.append((start, time.monotonic() - start))
            await asyncio.sleep(pause)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        async with http.post(url, data=bodies[0], headers={"Content-Type": "application/json"}) as resp:
            await resp.read()  # one connection open and the code path warm before "ready"
        print("ready", flush=True)
        await asyncio.gather(*(client(http, k) for k in range(clients)))
    return {"hits": hits, "not_hits": not_hits}


async def child(url: str, clients: int, pause: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def wait_for_eof() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, daemon=True).start()
    result = await send_hits(url, clients, pause, stop)
    print(json.dumps(result), flush=True)


class HitsUnderLoad:
    """`async with HitsUnderLoad(url, 4, 0.005) as hits:` runs the child and the steal sampler meanwhile.

    After the block: `hits.hits` [(start, seconds)], `hits.not_hits`, and
    `hits.windows` [(start, end, steal share)] of the whole block.
    """

    def __init__(self, url: str, clients: int, pause: float) -> None:
        self.args = [sys.executable, __file__, url, str(clients), str(pause)]
        self.hits: list[tuple[float, float]] = []
        self.not_hits = 0
        self.windows: list[tuple[float, float, float]] = []
        self._stop = asyncio.Event()

    async def __aenter__(self) -> HitsUnderLoad:
        self._proc = await asyncio.create_subprocess_exec(
            *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self._proc.stdout is not None
        ready = await self._proc.stdout.readline()
        if ready.strip() != b"ready":
            self._proc.kill()
            raise RuntimeError(f"hit client did not start (said {ready!r}, exit {await self._proc.wait()})")
        self._sampler = asyncio.create_task(self._sample_steal())
        return self

    async def _sample_steal(self) -> None:
        since, before = time.monotonic(), host_cpu_ticks()
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), STEAL_WINDOW)
            until, after = time.monotonic(), host_cpu_ticks()
            self.windows.append((since, until, steal_share(before, after)))
            since, before = until, after

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await self._sampler
        assert self._proc.stdin is not None
        self._proc.stdin.close()  # the child stops at EOF and prints its result
        try:
            out, _ = await asyncio.wait_for(self._proc.communicate(), 30)
        except TimeoutError:
            self._proc.kill()  # never leave it sending hits to a gateway being stopped
            await self._proc.wait()
            raise
        if self._proc.returncode != 0:
            raise RuntimeError(f"hit client failed with exit {self._proc.returncode}")
        result = json.loads(out.strip().splitlines()[-1])
        self.hits = [(start, seconds) for start, seconds in result["hits"]]
        self.not_hits = result["not_hits"]

    def quiet(self, limit: float) -> tuple[list[float], int]:
        """Times of the hits wholly inside windows with steal under `limit`, and the count of such windows."""
        quiet_windows = [(a, b) for a, b, steal in self.windows if steal < limit]
        spans = _merged(quiet_windows)
        times = [
            seconds for start, seconds in self.hits
            if any(a <= start and start + seconds <= b for a, b in spans)
        ]  # fmt: skip
        return times, len(quiet_windows)


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Adjacent spans joined, so a hit crossing from one quiet window into the next counts."""
    out: list[tuple[float, float]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


if __name__ == "__main__":
    asyncio.run(child(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
