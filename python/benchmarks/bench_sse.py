"""CPU per SSE event of the one decoder (sse.py) and of the load test's StreamParser on top of it.

    python benchmarks/bench_sse.py [--tokens 512] [--repeat 5]

The load test's client parses every token of every stream it drives in the process that
also paces the users, so its cost per event bounds how many tokens per second one load
generator can time. A 512-token chat stream (vLLM's chunk shape) is fed three ways: one
read per event (what a socket gives at a model's token pace), the whole body in one read,
and 64-byte reads (a slow network cutting events). Prints the best of `--repeat` runs, in
microseconds per event; no pass/fail: compare runs against a git revision by hand.
"""

from __future__ import annotations

import argparse
import json
import timeit
from collections.abc import Callable

from llmaz_serverless.loadtest.client import StreamParser
from llmaz_serverless.sse import SseDecoder


def chat_stream(tokens: int) -> list[bytes]:
    events = []
    for i in range(tokens):
        choice = {"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}
        chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m", "choices": [choice]}
        events.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    return [*events, b"data: [DONE]\n\n"]


def decoder_run(reads: list[bytes], expected: int) -> Callable[[], None]:
    def run() -> None:
        decoder = SseDecoder()
        count = sum(len(decoder.feed(read)) for read in reads) + len(decoder.close())
        assert count == expected

    return run


def parser_run(reads: list[bytes], tokens: int) -> Callable[[], None]:
    def run() -> None:
        parser = StreamParser("chat")
        for read in reads:
            parser.feed(read, 1.0)
        parser.finish(1.0)
        assert len(parser.token_times) == tokens and parser.done

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    events = chat_stream(a.tokens)
    body = b"".join(events)
    shapes = {
        "one read per event": events,
        "whole body, one read": [body],
        "64-byte reads": [body[i : i + 64] for i in range(0, len(body), 64)],
    }
    runs = 20
    for shape, reads in shapes.items():
        for name, fn in (("sse.SseDecoder", decoder_run(reads, len(events))),
                         ("loadtest StreamParser", parser_run(reads, a.tokens))):  # fmt: skip
            best = min(timeit.repeat(fn, number=runs, repeat=a.repeat)) / runs
            print(f"{name:22} {shape:22} {best * 1e6 / len(events):6.2f} us/event")


if __name__ == "__main__":
    main()
