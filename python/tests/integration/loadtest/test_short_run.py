"""A short REAL run: `llmaz-serverless loadtest --local` as a subprocess against the local stack.

One run (about 30 s) feeds every test here: files exist, plots decode, and
every number in summary.md is recomputed from the raw CSVs with code that
does not use the report package.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llmaz_serverless.cli import main as cli_main
from llmaz_serverless.report.plots import PLOTS

pytestmark = pytest.mark.integration

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ARGS = [
    "loadtest", "--local", "--scenario", "03_burst_after_idle", "--name", "short",
    "--shape-param", "lead_in=1", "--shape-param", "burst_users=3", "--shape-param", "burst_duration=2.5",
    "--shape-param", "idle=5", "--sim-startup-delay", "1", "--sim-idle", "1.5",
    "--output-tokens", "uniform:8,24", "--prompt-tokens", "lognormal:median=64,sigma=0.5,min=8,max=512",
]  # fmt: skip


@dataclass
class Run:
    dir: Path
    argv: list[str]
    stdout: str
    stderr: str
    returncode: int


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("runs")
    # Started beside its output, as `make loadtest` starts in the repository: recorded paths are relative.
    argv = [sys.executable, "-m", "llmaz_serverless", *ARGS, "--out", out.name]
    # As a person runs it: under `make test` the make variables would mark the
    # recorded command as "run by make", which is not what this run did.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=180, check=False, env=env, cwd=out.parent
    )
    return Run(out / "short", argv, proc.stdout, proc.stderr, proc.returncode)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _table(md: str) -> dict[str, str]:
    return {m.group(2): m.group(1) for m in re.finditer(r"^\| [^|]+ \| ([^|]+) \| `(\w+)` \|$", md, re.M)}


def test_run_finishes_with_the_data_and_the_report_when_local(run: Run) -> None:
    assert run.returncode in (0, 1), run.stderr  # 1 only if a default threshold failed on a busy machine
    for name in ("requests.csv", "replicas.csv", "run.json", "profile.json", "schedule.json", "locust.log",
                 "summary.md", "summary.json", "report.html", *PLOTS):  # fmt: skip
        assert (run.dir / name).stat().st_size > 0, name
    assert f"run directory: {run.dir}" in run.stdout
    # The progress display printed while locust ran.
    assert re.search(r"\[\s*\d+s/\d+s\] users\s+\d+\s+requests \d+", run.stderr)


def test_every_plot_is_a_valid_png_when_written(run: Run) -> None:
    import matplotlib.image as mpimg

    for name in PLOTS:
        path = run.dir / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE, name
        with Image.open(path) as img:
            img.verify()
        assert mpimg.imread(path).shape[2] in (3, 4)


def _step_integral(samples: list[tuple[float, int]], start: float, end: float) -> float:
    total = 0.0
    for i, (t, value) in enumerate(samples):
        a = start if i == 0 else max(start, t)
        b = end if i == len(samples) - 1 else min(end, samples[i + 1][0])
        total += value * max(0.0, b - a)
    return total


def test_summary_numbers_match_the_raw_csv_when_recomputed(run: Run) -> None:
    meta = json.loads((run.dir / "run.json").read_text())
    start, end = meta["started_at"], meta["ended_at"]
    reqs = _rows(run.dir / "requests.csv")
    reps = sorted(
        (float(r["time"]), int(r["replicas"]), int(r["ready"])) for r in _rows(run.dir / "replicas.csv")
    )
    ok = [r for r in reqs if r["outcome"] == "ok"]
    lat = [float(r["total_s"]) for r in ok]
    ttft = [float(r["ttft_s"]) for r in ok if r["ttft_s"]]
    itl = [float(v) for r in ok for v in r["itl_ms"].split(";") if v]

    # Cold: some sample from the last one before sending to the last one before the headers saw 0 ready.
    cold = set()
    for r in reqs:
        sent = float(r["start"])
        began = sent + float(r["ttfb_s"] or r["total_s"])
        before = [s for s in reps if s[0] <= sent]
        window = ([before[-1]] if before else []) + [s for s in reps if sent < s[0] <= began]
        if any(ready == 0 for _, _, ready in window):
            cold.add(r["request_id"])
    waits = [float(r["ttfb_s"]) for r in reqs if r["request_id"] in cold]
    used = _step_integral([(t, n) for t, n, _ in reps], start, end)
    peak = max(n for _, n, _ in reps)
    p = lambda values, q: float(np.percentile(values, q))  # noqa: E731

    table = _table((run.dir / "summary.md").read_text())
    expected = {
        "requests": str(len(reqs)),
        "ok": str(len(ok)),
        "errors": str(len(reqs) - len(ok)),
        "error_rate": f"{(len(reqs) - len(ok)) / len(reqs):.4f}",
        "throughput_rps": f"{len(ok) / (end - start):.3f}",
        "latency_p50_s": f"{p(lat, 50):.3f}",
        "latency_p99_s": f"{p(lat, 99):.3f}",
        "latency_max_s": f"{max(lat):.3f}",
        "ttft_p50_s": f"{p(ttft, 50):.3f}",
        "ttft_p99_s": f"{p(ttft, 99):.3f}",
        "itl_p50_ms": f"{p(itl, 50):.2f}",
        "itl_p99_ms": f"{p(itl, 99):.2f}",
        "itl_count": str(len(itl)),
        "cold_requests": str(len(cold)),
        "cold_wait_max_s": f"{max(waits):.3f}",
        "replica_samples": str(len(reps)),
        "replicas_peak": str(peak),
        "replica_seconds": f"{used:.3f}",
        "always_on_replica_seconds": f"{peak * (end - start):.3f}",
        "replica_seconds_saved_pct": f"{100 * (1 - used / (peak * (end - start))):.2f}",
    }
    assert {k: table.get(k) for k in expected} == expected


def test_both_bursts_waited_for_a_scale_up_from_zero_when_idle_exceeded_the_scaler_idle(run: Run) -> None:
    meta = json.loads((run.dir / "run.json").read_text())
    table = _table((run.dir / "summary.md").read_text())
    # The scaler simulation counts its own wake-ups: the timeline-based detection must agree.
    assert int(table["cold_events"]) == meta["local_stack"]["final_state"]["scaleUpsFromZero"] == 2
    assert int(table["cold_requests"]) >= 2
    assert float(table["cold_wait_max_s"]) >= 0.8  # the emulated load takes 1 s
    assert float(table["replica_seconds_saved_pct"]) > 0
    assert table["errors"] == "0"


def test_run_json_records_where_versions_and_the_exact_command_when_written(run: Run) -> None:
    meta = json.loads((run.dir / "run.json").read_text())
    assert meta["command"] == shlex.join(["python", "-m", "llmaz_serverless", *run.argv[3:]])
    assert meta["mode"] == "local"
    assert meta["target"].startswith("http://127.0.0.1:")
    assert "cores" in meta["where"]["machine"]
    assert meta["where"]["cluster"].startswith("none")
    assert {"llmaz-serverless", "locust", "python", "git commit", "redis-server"} <= set(meta["versions"])
    assert meta["locust_exit_code"] == 0
    assert meta["locust_command"].startswith("LLMAZ_LOADTEST_PROFILE=")
    assert "not KEDA" in meta["replica_source"]
    assert meta["sampler"]["errors"] == 0
    md = (run.dir / "summary.md").read_text()
    assert meta["command"] in md and meta["where"]["machine"] in md


def test_recorded_commands_and_profile_carry_paths_relative_to_where_the_run_started(run: Run) -> None:
    meta = json.loads((run.dir / "run.json").read_text())
    where = str(run.dir.parent.parent)
    relative = f"{run.dir.parent.name}/short"
    assert meta["command"].endswith(f"--out {run.dir.parent.name}")
    assert meta["locust_command"].startswith(f"LLMAZ_LOADTEST_PROFILE={relative}/profile.json ")
    assert f"--csv {relative}/locust" in meta["locust_command"]
    assert meta["profile"]["run_dir"] == relative
    assert json.loads((run.dir / "profile.json").read_text())["run_dir"] == relative
    for name in ("summary.md", "report.html", "profile.json"):
        assert where not in (run.dir / name).read_text(), f"{name} names the machine's {where}"


def test_report_command_rewrites_the_report_elsewhere_when_given_out(run: Run, tmp_path: Path) -> None:
    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("defaults:\n  error_rate: {max: 0.0}\n  cold_events: {min: 99}\n")
    code = cli_main(
        ["report", str(run.dir), "--out", str(tmp_path / "again"), "--thresholds", str(thresholds)]
    )
    assert code == 1  # cold_events min 99 cannot hold
    again = _table((tmp_path / "again" / "summary.md").read_text())
    assert again == _table((run.dir / "summary.md").read_text())
    assert "| `cold_events` | min | 99 | 2 | FAIL |" in (tmp_path / "again" / "summary.md").read_text()
