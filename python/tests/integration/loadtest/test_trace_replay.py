"""A short REAL trace replay on the local stack, then `plan --against` on it.

The trace has two bursts separated by more than the stack's idle time, so the model goes
0 -> 1 -> 0 -> 1: the replay must send every request at its recorded time with its recorded
output length, the report must name the trace and its transforms, and the planner's simulation
of the same run must see the same scale-ups from zero.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TRACE = [(0.0, 40, 6), (0.4, 80, 10), (1.0, 20, 8), (2.0, 64, 12), (9.0, 30, 5), (9.3, 50, 7), (10.0, 10, 9)]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay")
    trace = root / "t.csv"
    with open(trace, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "prompt_tokens", "output_tokens"])
        # An extra request before the window that --window must drop.
        writer.writerow([100.0, 5, 5])
        writer.writerows([(101.0 + t, p, o) for t, p, o in TRACE])
    argv = [
        sys.executable, "-m", "llmaz_serverless", "loadtest", "--local", "--trace", str(trace),
        "--window", "1s..20s", "--sim-startup-delay", "1", "--sim-idle", "2", "--out", str(root),
        "--name", "replay", "--quiet",
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root / "replay"


def test_every_request_is_sent_at_its_time_with_its_lengths(run_dir: Path) -> None:
    meta = json.loads((run_dir / "run.json").read_text())
    with open(run_dir / "requests.csv", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: float(r["start"]))
    assert len(rows) == len(TRACE)
    for (t, prompt, output), row in zip(TRACE, rows, strict=True):
        assert float(row["start"]) - meta["started_at"] == pytest.approx(t, abs=0.5)
        assert (int(row["prompt_tokens"]), int(row["max_tokens"])) == (prompt, output)
        assert row["outcome"] == "ok"


def test_the_report_names_the_trace_and_its_transforms(run_dir: Path) -> None:
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["trace"]["name"] == "t.csv" and meta["trace"]["transforms"] == ["window 1s..20s"]
    summary = (run_dir / "summary.md").read_text()
    assert "t.csv" in summary and "window 1s..20s" in summary


def test_plan_against_the_run_sees_the_same_scale_ups(run_dir: Path, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "llmaz_serverless", "plan", "--against", str(run_dir), "--cold-start",
            str(run_dir), "--report", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    rows = {r["quantity"]: r for r in json.loads((tmp_path / "compare.json").read_text())["rows"]}
    assert rows["scale-ups from zero"]["predicted"] == rows["scale-ups from zero"]["measured"] == 2
    assert (tmp_path / "compare.html").stat().st_size > 1000
