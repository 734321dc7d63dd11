"""Event rules: what matching and intake cost. Prints numbers; asserts nothing.

    .venv/bin/python python/benchmarks/bench_events.py [--rules 100] [--events 2000] [--concurrency 16]

1. Matching alone: one event against N rules (each a type, a source prefix and
   two nested data fields), per event.
2. POST /v1/events on loopback against a real Redis (started here), each
   event matching one prewarm rule: requests per second and latency
   percentiles at a fixed concurrency. Bounded by --events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CollectorRegistry

from llmaz_serverless.events.intake import parse_http
from llmaz_serverless.events.metrics import EventMetrics
from llmaz_serverless.events.rules import EventRule, RuleSet
from llmaz_serverless.events.settings import EventsSettings
from llmaz_serverless.gateway.events_api import EventsApi, lifecycle
from llmaz_serverless.launcher import RedisServer, free_port


def _rule(i: int) -> dict:
    return {
        "name": f"rule-{i}",
        "pattern": {
            "type": [f"com.example.kind{i}"],
            "source": [{"prefix": "/apps/"}],
            "data": {"user": {"tier": [{"anythingBut": ["free"]}]}, "model": [f"m{i % 5}"]},
        },
        "actions": [{"prewarm": {"models": [f"m{i % 5}"], "window": "15m"}}],
    }


def _event(i: int, kind: int) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": f"e-{i}",
            "source": "/apps/ui",
            "type": f"com.example.kind{kind}",
            "data": {"user": {"tier": "pro"}, "model": f"m{kind % 5}"},
        }
    ).encode()


def bench_matching(n_rules: int, n_events: int) -> None:
    rules = RuleSet(EventRule.model_validate(_rule(i)) for i in range(n_rules))
    events = [parse_http({"content-type": "application/cloudevents+json"}, _event(i, i % n_rules))[0]
              for i in range(n_events)]  # fmt: skip
    start = time.perf_counter()
    matched = sum(len(rules.matching(e.document)) for e in events)
    took = time.perf_counter() - start
    print(f"matching: {n_rules} rules, {n_events} events, {matched} matches: "
          f"{took / n_events * 1e6:.1f} us per event ({n_events / took:,.0f} events/s)")  # fmt: skip
    start = time.perf_counter()
    for i in range(n_events):
        parse_http({"content-type": "application/cloudevents+json"}, _event(i, 0))
    took = time.perf_counter() - start
    print(f"parsing (CloudEvents SDK, structured): {took / n_events * 1e6:.1f} us per event")


async def bench_http(n_rules: int, n_events: int, concurrency: int, redis_url: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    settings = EventsSettings.model_validate({"rules": [_rule(i) for i in range(n_rules)]})
    api = EventsApi(settings, EventMetrics(CollectorRegistry()), {f"m{i}" for i in range(5)})
    app = web.Application()
    api.add_routes(app)
    app.cleanup_ctx.append(lifecycle(api, lambda: redis, None))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/v1/events"
    latencies: list[float] = []
    counter = iter(range(n_events))
    headers = {"Content-Type": "application/cloudevents+json"}

    async def worker(http: aiohttp.ClientSession) -> None:
        for i in counter:
            body = _event(i, i % n_rules)
            t0 = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            latencies.append(time.perf_counter() - t0)

    async with aiohttp.ClientSession() as http:
        start = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        took = time.perf_counter() - start
    await runner.cleanup()
    await redis.aclose()
    q = statistics.quantiles(latencies, n=100)
    rate, p50, p99 = n_events / took, q[49] * 1000, q[98] * 1000
    print(f"POST /v1/events: {n_events} events, concurrency {concurrency}, {n_rules} rules, one prewarm "
          f"each: {rate:,.0f} events/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    bench_matching(args.rules, args.events)
    with RedisServer() as server:
        asyncio.run(bench_http(args.rules, args.events, args.concurrency, server.url))


if __name__ == "__main__":
    main()
