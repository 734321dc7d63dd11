"""`llmaz-serverless plan` and `trace` end to end in-process: exit codes, output, report files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmaz_serverless.cli import main

VALUES = (
    "models:\n  - name: m\n    source: {modelHub: {modelID: x}}\n    scaling:\n      cooldownPeriod: 900\n"
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    trace = tmp_path / "t.csv"
    # Three bursts of 5 requests 3 s apart, 30 minutes apart.
    rows = [f"{b * 1800 + k * 3},100,50" for b in range(3) for k in range(5)]
    trace.write_text("timestamp,prompt_tokens,output_tokens\n" + "\n".join(rows) + "\n")
    values = tmp_path / "v.yaml"
    values.write_text(VALUES)
    return trace, values


def test_plan_prints_recommends_and_writes_the_report(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace, values = files
    code = main(["plan", "--trace", str(trace), "-f", str(values), "--cold-start", "5s", "--max-cold", "50%",
                 "--cooldowns", "60,300", "--price", "2", "--report", str(tmp_path / "r")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "as given: cooldown 900s" in out and "recommended: cooldown 60s" in out
    assert "-    cooldownPeriod: 900" in out and "+    cooldownPeriod: 60" in out
    plan = json.loads((tmp_path / "r/plan.json").read_text())
    (model,) = plan["models"]
    # With either cooldown the model is at zero at each burst; 2 of its 5 requests arrive within the 5.2 s.
    assert model["given"]["cold_requests"] == model["recommended"]["cold_requests"] == 6
    assert model["recommended"]["cost"] < model["given"]["cost"]
    assert {p.name for p in (tmp_path / "r").iterdir()} >= {
        "plan.md",
        "plan.html",
        "frontier-m.png",
        "replicas-m.png",
    }


def test_plan_exit_codes(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    trace, values = files
    assert main(["plan", "--trace", str(trace), "-f", str(values), "--cold-start", "30s", "--max-cold", "0%",
                 "--min-replicas", "0"]) == 1  # fmt: skip
    assert "no setting of the grid meets the targets" in capsys.readouterr().out
    assert main(["plan", "--trace", str(trace), "-f", str(values)]) == 2
    assert "--cold-start is required" in capsys.readouterr().err
    assert main(["plan", "--trace", str(trace), "-f", str(values), "--cold-start", "soon"]) == 2
    assert "--cold-start 'soon'" in capsys.readouterr().err


def test_trace_from_logs_writes_a_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "gw.log"
    line = {"ts": "2026-12-06T10:00:01+00:00", "logger": "llmaz_serverless.gateway.access", "msg": "request",
            "path": "/v1/completions", "duration_ms": 1000, "model": "m"}  # fmt: skip
    log.write_text(json.dumps(line) + "\n" + json.dumps({**line, "ts": "2026-12-06T10:00:05+00:00"}) + "\n")
    out = tmp_path / "t.csv"
    assert main(["trace", "from-logs", str(log), "-o", str(out)]) == 0
    assert out.read_text().splitlines()[1:] == ["0.000,,,m", "4.000,,,m"]
    assert "2 requests kept" in capsys.readouterr().out
