"""`validate` and `render` of the prod preset: wall time. Prints numbers; asserts nothing.

    .venv/bin/python python/benchmarks/bench_validate.py [--runs 10] [--values FILE]

(--values defaults to charts/llmaz-serverless/values-prod.yaml.)

1. CLI: `python -m llmaz_serverless validate -f values-prod.yaml`, a fresh
   process per run, as a user or CI runs it (interpreter start, imports,
   chart schema compile, merge, rules). Target: under 1 s.
2. In-process `validate_values`: the first call (schema compiled, zoneinfo
   read) and later calls (cached schema).
3. CLI `render -f values-prod.yaml`: real `helm template` plus validation of
   every object, for comparison.

Runs are bounded by --runs; min, median and max are printed.
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

from llmaz_serverless.toolpaths import chart_dir, find_tool


def _stats(samples: list[float]) -> str:
    return (
        f"min {min(samples) * 1000:7.1f} ms  median {statistics.median(samples) * 1000:7.1f} ms  "
        f"max {max(samples) * 1000:7.1f} ms  (n={len(samples)})"
    )


def _cli(args: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "llmaz_serverless", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    return time.perf_counter() - start, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--values", type=Path, default=chart_dir() / "values-prod.yaml")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 100))
    values = args.values

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus")
    print(f"values: {values}; load average {os.getloadavg()[0]:.1f}")
    print(f"helm: {find_tool('helm')}")

    # 1. CLI, fresh process each time.
    _cli(["validate", "-f", str(values)])  # warm the OS page cache once
    samples, codes = [], set()
    for _ in range(runs):
        elapsed, code = _cli(["validate", "-f", str(values)])
        samples.append(elapsed)
        codes.add(code)
    print(f"validate CLI (fresh process)  {_stats(samples)}  exit codes {sorted(codes)}")

    # 2. In-process.
    start = time.perf_counter()
    from llmaz_serverless.values.validate import validate_values

    import_s = time.perf_counter() - start
    start = time.perf_counter()
    report = validate_values([values], chart_dir())
    first = time.perf_counter() - start
    later = []
    for _ in range(runs):
        start = time.perf_counter()
        validate_values([values], chart_dir())
        later.append(time.perf_counter() - start)
    print(f"validate in-process import    {import_s * 1000:7.1f} ms")
    print(f"validate in-process first     {first * 1000:7.1f} ms  ({len(report.problems)} problems)")
    print(f"validate in-process later     {_stats(later)}")

    # 3. render CLI (helm + every object validated).
    samples, codes = [], set()
    for _ in range(max(1, runs // 2)):
        elapsed, code = _cli(["render", "-f", str(values), "--api-versions", "monitoring.coreos.com/v1"])
        samples.append(elapsed)
        codes.add(code)
    print(f"render CLI (helm + objects)   {_stats(samples)}  exit codes {sorted(codes)}")


if __name__ == "__main__":
    main()
