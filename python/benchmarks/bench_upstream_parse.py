"""CPU the gateway's upstream client spends taking a streamed answer apart, against a git revision's.

    .venv/bin/python python/benchmarks/bench_upstream_parse.py --baseline REV [--answers 2000]

Feeds the bytes of a streamed completion, as the emulator sends them (an
aiohttp server's head, then `--tokens` SSE events of an OpenAI completion
chunk, each in its own chunk and its own read, then `data: [DONE]` and the
closing chunk), into the `_Connection` of `gateway/upstream.py` over an
in-memory transport, on one kept-alive connection, answer after answer. The
implementation of this tree and that of `--baseline REV`
take turns answer by answer, so noise from other processes on the machine
hits both alike. Times, in CPU time of this thread (`time.thread_time_ns`,
so time the thread is not running is not counted): the head (from its bytes
to the answer object) and each body read (bytes in to the piece handed to
the sink). Prints p50/p90 of both per implementation and the ratio of the
p50s. No socket and no event-loop turn is timed: this is the parser's and
the connection's own Python, not what a request costs end to end
(bench_gateway.py measures that).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from bench_cold_path import MemoryTransport  # this directory is on sys.path when a script here runs
from bench_gateway import pct

REPO = Path(__file__).resolve().parents[2]
MODULE = "python/src/llmaz_serverless/gateway/upstream.py"
REQUEST = b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"
HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"X-Request-Id: 5f2c0a9e-000123\r\nTransfer-Encoding: chunked\r\n"
    b"Date: Sun, 06 Dec 2026 16:00:00 GMT\r\nServer: Python/3.11 aiohttp/3.14.5\r\n\r\n"
)


def token_event(i: int) -> bytes:
    """One SSE event as an OpenAI-compatible server streams a completion token."""
    chunk = {
        "id": "cmpl-bench-000001",
        "object": "text_completion",
        "created": 1796572800,
        "model": "bench",
        "choices": [{"index": 0, "text": f" token{i}", "logprobs": None, "finish_reason": None}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def body_reads(tokens: int) -> list[bytes]:
    """The answer's body as the gateway reads it: one read per event, the last with the closing chunk."""
    reads = [chunked(token_event(i)) for i in range(tokens)]
    reads.append(chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")
    return reads


def load(source: Path, name: str) -> ModuleType:
    """`upstream.py` at `source` as a module of its own (it imports only libraries, no project modules)."""
    spec = importlib.util.spec_from_file_location(name, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def revision_source(rev: str, dest: Path) -> Path:
    shown = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:{MODULE}"], capture_output=True, check=False
    )
    if shown.returncode != 0:
        raise SystemExit(f"--baseline {rev}: git show failed: {shown.stderr.decode().strip()}")
    dest.write_bytes(shown.stdout)
    return dest


class Subject:
    """One implementation: a pool, one connection on a memory transport, and its timings."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.pool = module.UpstreamPool(keepalive_timeout=3600, connect_timeout=1)
        self.conn = module._Connection(self.pool, ("http", "127.0.0.1", 80))
        self.conn.connection_made(MemoryTransport())
        self.head_ns: list[int] = []
        self.read_ns: list[int] = []
        self.received = 0

    def sink(self, piece: bytes) -> bool:
        self.received += len(piece)
        return False

    async def answer(self, reads: list[bytes]) -> None:
        conn = self.conn
        waiting = asyncio.ensure_future(conn.request(REQUEST))
        await asyncio.sleep(0)  # the request is written and its head awaited
        start = time.thread_time_ns()
        conn.data_received(HEAD)
        self.head_ns.append(time.thread_time_ns() - start)
        resp = await waiting
        resp.stream(self.sink)
        for data in reads:
            start = time.thread_time_ns()
            conn.data_received(data)
            self.read_ns.append(time.thread_time_ns() - start)
        if not resp.complete:
            raise RuntimeError(f"{self.module.__name__}: the answer did not complete")
        resp.release()
        if conn.idle_timer is not None:  # back in the pool; taken again by hand for the next answer
            conn.idle_timer.cancel()
            conn.idle_timer = None
        self.pool._idle.clear()


async def measure(subjects: dict[str, Subject], answers: int, tokens: int) -> None:
    reads = body_reads(tokens)
    for subject in subjects.values():  # warm up code paths
        for _ in range(50):
            await subject.answer(reads)
        subject.head_ns.clear()
        subject.read_ns.clear()
    gc.collect()
    gc.disable()
    try:
        for _ in range(answers):
            for subject in subjects.values():
                await subject.answer(reads)
    finally:
        gc.enable()
    expected = sum(len(token_event(i)) for i in range(tokens)) + len(b"data: [DONE]\n\n")
    for name, subject in subjects.items():
        if subject.received != expected * (answers + 50):
            raise RuntimeError(
                f"{name}: the sink got {subject.received} bytes, not {expected * (answers + 50)}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", required=True, help="git revision to compare with")
    parser.add_argument("--answers", type=int, default=2000, help="answers per implementation (default 2000)")
    parser.add_argument("--tokens", type=int, default=32, help="SSE events per answer (default 32)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-upstream-parse-") as tmp:
        subjects = {
            "this tree": Subject(load(REPO / MODULE, "upstream_this_tree")),
            args.baseline: Subject(
                load(revision_source(args.baseline, Path(tmp) / "upstream.py"), "upstream_rev")
            ),
        }
        asyncio.run(measure(subjects, args.answers, args.tokens))
    print(f"{args.answers} answers per implementation, {args.tokens} SSE events each, taking turns; "
          "CPU time of this thread, us")  # fmt: skip
    print(f"{'implementation':<16} {'head p50':>9} {'head p90':>9} {'read p50':>9} {'read p90':>9}")
    p50s = {}
    for name, s in subjects.items():
        head = [ns / 1000 for ns in s.head_ns]
        read = [ns / 1000 for ns in s.read_ns]
        p50s[name] = (pct(head, 50), pct(read, 50))
        cells = (pct(head, 50), pct(head, 90), pct(read, 50), pct(read, 90))
        print(f"{name:<16}" + "".join(f" {cell:>9.2f}" for cell in cells))
    (head_this, read_this), (head_base, read_base) = p50s.values()
    print(f"p50 ratio this tree / {args.baseline}: head {head_this / head_base:.3f}, "
          f"body read {read_this / read_base:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
