"""`plan` speed: one hour of ~20k requests over a grid of 100 settings, on one core. Prints numbers;
asserts nothing.

    .venv/bin/python python/benchmarks/bench_plan.py [--runs 3] [--trace FILE]

(--trace defaults to ../shared/data/azure-llm-inference-2023-conv.csv: 19,366 requests in one hour.)

The process pins itself to one CPU first (sched_setaffinity), then times:
1. reading the trace;
2. planning the whole trace as recorded over 100 settings (50 cooldowns x no pre-warm / one cron
   pre-warm window, minReplicaCount 0), the values being charts/llmaz-serverless/examples/vllm-gpu.yaml;
3. the same on the trace thinned to 5 % with 10-minute idle gaps every 5 minutes (what exercises
   scale to zero);
4. the CLI end to end, a fresh process (`llmaz-serverless plan ... --no-search`, imports included).
Target: 2. under 10 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from llmaz_serverless.plan.planner import GridSpec, plan
from llmaz_serverless.plan.search import Targets
from llmaz_serverless.plan.settings import CronWindow, Service
from llmaz_serverless.plan.values import load_models
from llmaz_serverless.toolpaths import repo_root
from llmaz_serverless.trace.formats import read_trace
from llmaz_serverless.trace.transforms import Transforms, apply

# 50 cooldowns, 30 s .. 25 min (the values' own 900 s among them) x 2 pre-warm choices = 100 settings.
COOLDOWNS = tuple(float(30 + 30 * k) for k in range(50))
WINDOW = CronWindow("evening", "0 18 * * *", "0 20 * * *")


def _stats(samples: list[float]) -> str:
    return f"min {min(samples):6.2f} s  median {statistics.median(samples):6.2f} s  max {max(samples):6.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--trace", type=Path, default=repo_root().parent / "shared/data/azure-llm-inference-2023-conv.csv"
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    machine = platform.processor() or platform.machine()
    print(f"python {platform.python_version()}, {machine}, pinned to {cpus} CPU")
    print(f"load average {os.getloadavg()[0]:.2f} (other jobs share the machine)")
    values = repo_root() / "charts/llmaz-serverless/examples/vllm-gpu.yaml"
    models = load_models([values])
    svc = Service(cold_start=26.0)
    grid = GridSpec(COOLDOWNS, (0,), (WINDOW,))
    targets = Targets(max_cold=0.05, max_wait_p95=30.0)

    reads = []
    for _ in range(args.runs):
        began = time.perf_counter()
        trace = read_trace(args.trace)
        reads.append(time.perf_counter() - began)
    print(f"read {trace.name}: {len(trace.arrivals)} requests over {trace.duration:.0f} s   {_stats(reads)}")

    for label, t in (
        ("as recorded", trace),
        (
            "thinned to 5 %, 10m gaps every 5m",
            apply(trace, Transforms(thin=0.05, gap_every=300, gap_length=600)),
        ),
    ):
        runs, result = [], None
        for _ in range(args.runs):
            began = time.perf_counter()
            result = plan(t, models, svc, "--cold-start 26s", targets, grid)
            runs.append(time.perf_counter() - began)
        assert result is not None
        chosen = result.models[0].chosen
        grid_size = sum(len(m.scored) for m in result.models)
        print(
            f"plan {label}: {len(t.arrivals)} requests, a grid of {grid_size} "
            f"settings (+ the values as given: {result.settings_simulated} simulations)   {_stats(runs)}"
        )
        print(f"  recommended: {chosen.candidate.label() if chosen else 'none meets the targets'}")

    cli = [sys.executable, "-m", "llmaz_serverless", "plan", "--trace", str(args.trace), "-f", str(values),
           "--cold-start", "26s", "--no-search"]  # fmt: skip
    walls = []
    for _ in range(args.runs):
        began = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True)
        walls.append(time.perf_counter() - began)
    print(f"CLI plan --no-search, fresh process: {_stats(walls)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
