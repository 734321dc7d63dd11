"""A short REAL async run: jobs through the gateway's async API, the worker and one emulator.

Uses the emulator's own 0/1 scale to zero (--sim-max-replicas 1), the other
local mode, so both local simulations run in the tests.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_async_jobs_complete_end_to_end_and_the_first_waits_for_the_scale_up_when_submitted_at_zero(
    tmp_path: Path,
) -> None:
    argv = [
        sys.executable, "-m", "llmaz_serverless", "loadtest", "--local", "--scenario", "05_async",
        "--out", str(tmp_path), "--name", "async", "--quiet", "--sim-max-replicas", "1",
        "--sim-startup-delay", "1", "--sim-idle", "3",
        "--shape-param", "lead_in=0.5", "--shape-param", "burst_users=3", "--shape-param", "burst_duration=3",
        "--shape-param", "idle=1", "--output-tokens", "fixed:8",
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    run_dir = tmp_path / "async"
    assert proc.returncode in (0, 1), proc.stderr
    with open(run_dir / "requests.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, proc.stderr
    assert {r["kind"] for r in rows} == {"async"}
    assert all(r["outcome"] == "ok" for r in rows), [r["error_detail"] for r in rows if r["outcome"] != "ok"]
    # Submits are answered at once; results come later.
    assert all(float(r["total_s"]) > float(r["ttfb_s"]) for r in rows)
    assert all(int(r["output_tokens"]) == 8 for r in rows)
    summary = json.loads((run_dir / "summary.json").read_text())["metrics"]
    meta = json.loads((run_dir / "run.json").read_text())
    assert summary["cold_events"] == meta["local_stack"]["final_state"]["coldStartsTotal"] == 1
    assert summary["cold_wait_max_s"] >= 0.9  # the emulated load is 1 s: held jobs waited for it
    assert "async worker" in {c["name"] for c in meta["local_stack"]["components"]}
    assert "emulator's own state" in meta["replica_source"]
