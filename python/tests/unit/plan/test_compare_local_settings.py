"""`plan --against` rebuilds the local scaler's rule from the options a local run recorded."""

from __future__ import annotations

import json
from pathlib import Path

from llmaz_serverless.loadtest.localstack import LocalModelOptions
from llmaz_serverless.plan.compare import local_settings
from llmaz_serverless.scale_to_zero import ScaleToZeroSettings


def _run_dir(tmp_path: Path, options: dict[str, object]) -> Path:
    (tmp_path / "run.json").write_text(json.dumps({"local_stack": {"options": options}}), encoding="utf-8")
    return tmp_path


def test_recorded_options_give_the_rule_the_scaler_ran(tmp_path: Path) -> None:
    recorded = {"idle": 12.0, "max_replicas": 4, "target_concurrency": 3.0, "scale_down_after": 7.0,
                "ttft": 0.1, "cold_requests": 2, "cold_factor": 5.0, "newer_key": True}  # fmt: skip
    scaler, emulator = local_settings(_run_dir(tmp_path, recorded))
    # Polling and hold are not options of a local run: the local stack's defaults.
    assert scaler == ScaleToZeroSettings(
        max_replicas=4, target_concurrency=3.0, scale_to_zero_after=12.0, scale_down_after=7.0
    )
    assert emulator["ttft"] == 0.1
    assert (emulator["first_requests"], emulator["first_factor"]) == (2, 5.0)


def test_the_scaler_process_is_started_with_that_same_rule() -> None:
    options = LocalModelOptions(idle=12.0, max_replicas=4, target_concurrency=3.0, scale_down_after=7.0)
    args = options.scaler_args(9000)
    flags = dict(zip(args[: args.index("--") : 2], args[1 : args.index("--") : 2], strict=True))
    assert flags == {
        "--port": "9000", "--model": "emulated-llm", "--max-replicas": "4",
        "--target-concurrency": "3.0", "--scale-to-zero-after": "12.0", "--scale-down-after": "7.0",
    }  # fmt: skip


def test_a_run_without_recorded_options_uses_the_local_defaults(tmp_path: Path) -> None:
    scaler, _ = local_settings(_run_dir(tmp_path, {}))
    assert scaler == ScaleToZeroSettings()
