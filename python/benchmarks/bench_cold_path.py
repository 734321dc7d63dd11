"""What the first step of a request costs in the gateway's server stack, with warm and with cold CPU caches.

    .venv/bin/python python/benchmarks/bench_cold_path.py [--requests 300] [--evict-mib 64]

The gateway's server is aiohttp; a request's first step is its protocol's
`data_received`: parse the request line and headers (C parser), build the
request message and its payload stream, wake the connection's task. This
script times that step for a typical proxied completion request (the same
bytes the benchmark's client sends), in two ways:

- warm: one request right after another, as when a process does nothing else;
- cold: before each request, write `--evict-mib` MiB of memory and run some
  unrelated Python, so the instructions and data of the step are no longer
  in the CPU caches, as when two vCPUs are shared with a load generator and a
  model-server emulator (bench_gateway.py) and ~100 requests a second arrive
  with hundreds of other callbacks in between.

Each connection is a fresh protocol with an in-memory transport (no socket,
no event-loop turn is timed). Prints p50/p90 of both and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time

from aiohttp import web
from bench_gateway import pct  # this directory is on sys.path when a script here runs

BODY = b'{"model": "bench", "prompt": "benchmark prompt", "stream": true, "max_tokens": 32, "temperature": 1}'
REQUEST = (
    b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n"
    b"Accept-Encoding: gzip, deflate\r\nUser-Agent: Python/3.11 aiohttp/3.14\r\n"
    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
)


class MemoryTransport(asyncio.Transport):
    """Enough of a transport for a protocol fed by hand: what it writes goes nowhere.

    Also bench_upstream_parse.py's, under the gateway's upstream connections.
    """

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name in ("peername", "sockname") else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def measure(requests: int, evict_mib: int) -> tuple[list[float], list[float]]:
    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response()

    server = web.Server(handler)
    protocols = []
    for _ in range(2 * requests):
        protocol = server()
        protocol.connection_made(MemoryTransport())
        protocols.append(protocol)
    await asyncio.sleep(0)  # let each connection's task start and wait for a request
    gc.collect()
    gc.freeze()  # as the gateway does: the collector does not walk the startup heap
    junk = bytearray(evict_mib << 20)
    line = 64  # one write per cache line
    warm: list[float] = []
    cold: list[float] = []
    for protocol in protocols[:requests]:
        start = time.perf_counter()
        protocol.data_received(REQUEST)
        warm.append(time.perf_counter() - start)
    for protocol in protocols[requests:]:
        junk[::line] = bytes(len(junk) // line)  # evict data caches
        sorted(str(i) for i in range(5_000))  # run unrelated interpreter code
        start = time.perf_counter()
        protocol.data_received(REQUEST)
        cold.append(time.perf_counter() - start)
    for protocol in protocols:
        protocol.force_close()
    await server.shutdown(0)
    return warm, cold


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="requests timed in each way (default 300)")
    parser.add_argument("--evict-mib", type=int, default=64, help="memory written before each cold request")
    args = parser.parse_args()
    warm, cold = asyncio.run(measure(args.requests, args.evict_mib))
    w50, w90, c50, c90 = (pct(v, q) * 1e6 for v in (warm, cold) for q in (50, 90))
    print(f"aiohttp request parse (data_received), {args.requests} requests each:")
    print(f"  warm: p50 {w50:.1f} us, p90 {w90:.1f} us")
    print(f"  cold: p50 {c50:.1f} us, p90 {c90:.1f} us  ({c50 / w50:.1f}x the warm p50)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
