"""One async worker process against a 50 ms emulated model. Prints numbers; asserts nothing.

    .venv/bin/python python/benchmarks/bench_worker.py [--jobs 3000] [--rate 200] [--duration 15] \
        [--concurrency 64] [--model-ms 50]

Everything is real and on loopback: a redis-server, the model emulator
(`llmaz-serverless sim`, one subprocess, TTFT = --model-ms, one output token)
and one `llmaz-serverless worker` subprocess. This process only submits jobs
(the way the gateway does) and reads their status afterwards.

1. Throughput: --jobs jobs are queued before the worker starts; the worker
   drains them. Rate = jobs / (last result stored - first job started).
2. Added latency at a fixed offered rate (--rate jobs/s for --duration s,
   open loop): per job, enqueue -> result stored, minus the model call the
   worker timed (HTTP round trip to the emulator included in the model call),
   and minus the nominal model time (--model-ms) for the total the async path
   adds. Percentiles over every job.
Worker CPU seconds per job come from /proc for each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from llmaz_serverless.launcher import RedisServer, free_port, wait_for_port
from llmaz_serverless_testing.worker import Client, runtime_config, write_runtime_config

BODY = {"model": "m", "messages": [{"role": "user", "content": "benchmark"}], "max_tokens": 1}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def _wait_all(client: Client, ids: list[str], within: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    pending = set(ids)
    statuses: dict[str, dict[str, Any]] = {}
    while pending and time.monotonic() < deadline:
        for job_id in list(pending)[:500]:
            s = await client.status.get(job_id)
            if s and s.get("state") in ("succeeded", "failed"):
                statuses[job_id] = s
                pending.discard(job_id)
        if pending:
            await asyncio.sleep(0.2)
    if pending:
        raise TimeoutError(f"{len(pending)} of {len(ids)} jobs unfinished after {within}s")
    return [statuses[i] for i in ids]


def _report(title: str, statuses: list[dict[str, Any]], model_s: float, cpu: float) -> None:
    failed = [s for s in statuses if s["state"] != "succeeded"]
    ok = [s for s in statuses if s["state"] == "succeeded"]
    e2e = [(s["completedAt"] - s["createdAt"]) * 1000 for s in ok]
    vs_call = [(s["completedAt"] - s["createdAt"] - s["modelSeconds"]) * 1000 for s in ok]
    vs_nominal = [v - model_s * 1000 for v in e2e]
    call = [s["modelSeconds"] * 1000 for s in ok]
    per_job = cpu / max(1, len(ok)) * 1000
    print(f"\n{title}: {len(ok)} succeeded, {len(failed)} failed; worker CPU {per_job:.2f} ms/job")
    print(f"  {'ms':<34}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}")
    for name, values in (
        ("enqueue -> stored", e2e),
        ("model call as timed by the worker", call),
        ("added: minus the timed model call", vs_call),
        (f"added: minus nominal {model_s * 1000:.0f} ms", vs_nominal),
    ):
        print(f"  {name:<34}" + "".join(f"{_pct(values, q):9.2f}" for q in (50, 90, 99, 100)))


def _start_sim(port: int, model_s: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "llmaz_serverless", "sim", "--model", "m", "--port", str(port),
         "--ttft", str(model_s), "--itl", "0", "--default-max-tokens", "1", "--max-concurrency", "4096"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _start_worker(config: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "llmaz_serverless", "worker", "--config", str(config),
             "--consumer", "bench", "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def bench(args: argparse.Namespace) -> None:
    model_s = args.model_ms / 1000
    with RedisServer() as redis, tempfile.TemporaryDirectory() as tmp:
        sim_port = free_port()
        sim = _start_sim(sim_port, model_s)
        worker: subprocess.Popen[bytes] | None = None
        try:
            wait_for_port(sim_port, 30, sim)
            doc = runtime_config(redis.url, {"m": f"http://127.0.0.1:{sim_port}"}, {
                "metricsPort": 0, "concurrency": args.concurrency, "claimIdle": "60s",
            })  # fmt: skip
            config = write_runtime_config(Path(tmp) / "runtime.yaml", doc)
            async with Client(doc) as client:
                # Phase 1: a backlog, then one worker drains it.
                ids = [await client.submit(BODY) for _ in range(args.jobs)]
                worker = _start_worker(config, Path(tmp) / "worker.log")
                cpu0 = 0.0
                statuses = await _wait_all(client, ids, within=args.jobs / 20 + 60)
                cpu1 = _cpu_seconds(worker.pid)
                started = min(s["startedAt"] for s in statuses)
                stored = max(s["completedAt"] for s in statuses)
                cores = os.cpu_count()
                print(f"worker concurrency {args.concurrency}, model {args.model_ms:.0f} ms, {cores} cores")
                print(f"\nthroughput: {args.jobs} queued jobs drained in {stored - started:.2f} s "
                      f"= {args.jobs / (stored - started):.0f} jobs/s per worker process")  # fmt: skip
                _report("backlog drain (includes queue wait)", statuses, model_s, cpu1 - cpu0)

                # Phase 2: open loop at a fixed rate.
                count = int(args.rate * args.duration)
                ids = []
                t0 = time.monotonic()
                for i in range(count):
                    delay = t0 + i / args.rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    ids.append(await client.submit(BODY))
                sent_in = time.monotonic() - t0
                statuses = await _wait_all(client, ids, within=args.duration + 60)
                cpu2 = _cpu_seconds(worker.pid)
                print(f"\noffered {count} jobs at {args.rate:.0f}/s (sent in {sent_in:.2f} s, "
                      f"achieved {count / sent_in:.0f}/s)")  # fmt: skip
                _report(f"fixed rate {args.rate:.0f} jobs/s", statuses, model_s, cpu2 - cpu1)
        finally:
            for proc in (worker, sim):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=3000, help="backlog size for the throughput phase")
    parser.add_argument("--rate", type=float, default=200.0, help="offered jobs/s in the latency phase")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of the latency phase")
    parser.add_argument("--concurrency", type=int, default=64, help="worker.concurrency")
    parser.add_argument("--model-ms", type=float, default=50.0, help="emulated model time (TTFT, one token)")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
