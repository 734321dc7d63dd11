"""`validate --trace`: the planner's cold-share warning on otherwise valid values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmaz_serverless.cli import main


def _files(tmp_path: Path, repo: Path, gap: float) -> tuple[Path, Path]:
    trace = tmp_path / "t.csv"
    trace.write_text(
        "timestamp,prompt_tokens,output_tokens\n" + "".join(f"{k * gap},10,10\n" for k in range(20))
    )
    # Valid values (cooldown 900 s) with one model, llama-8b.
    return trace, repo / "charts/llmaz-serverless/examples/vllm-gpu.yaml"


def test_warns_with_the_share_and_strict_turns_it_into_a_failure(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace, values = _files(tmp_path, repo, gap=1200.0)  # 20 min between requests: always cold
    assert main(["validate", "-f", str(values), "--trace", str(trace), "--cold-start", "60"]) == 0
    out = capsys.readouterr().out
    assert (
        "models[0] (llama-8b): on this trace, these settings send 100% of requests into a cold start" in out
    )
    assert "[plan/cold-share]" in out and ": valid (" in out
    assert main(["validate", "-f", str(values), "--trace", str(trace), "--cold-start", "60", "--strict"]) == 1


def test_no_warning_when_the_model_stays_warm_and_json_carries_the_list(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace, values = _files(tmp_path, repo, gap=10.0)  # one cold start, then warm: 1 of 20 = 5 %
    assert (
        main(["validate", "-f", str(values), "--trace", str(trace), "--cold-start", "5", "-o", "json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["trace_warnings"] == []
