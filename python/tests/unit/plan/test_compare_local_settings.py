"""`plan --against` rebuilds the local scaler's rule and the emulator's timing from a local run's record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmaz_serverless.loadtest.localstack import LOCAL_TIMING, LocalModelOptions
from llmaz_serverless.model_timing import ModelTiming
from llmaz_serverless.plan.compare import local_settings
from llmaz_serverless.scale_to_zero import ScaleToZeroSettings

# The keys run.json's `local_stack.options` has always held: run dirs recorded by older builds load.
RECORDED_KEYS = {
    "model", "startup_delay", "idle", "ttft", "itl", "prefill_per_token", "cold_requests", "cold_factor",
    "fail_rate", "max_replicas", "target_concurrency", "scale_down_after",
}  # fmt: skip


def _run_dir(tmp_path: Path, options: dict[str, object]) -> Path:
    (tmp_path / "run.json").write_text(json.dumps({"local_stack": {"options": options}}), encoding="utf-8")
    return tmp_path


def test_recorded_options_give_the_rule_the_scaler_ran(tmp_path: Path) -> None:
    recorded = {"idle": 12.0, "max_replicas": 4, "target_concurrency": 3.0, "scale_down_after": 7.0,
                "ttft": 0.1, "cold_requests": 2, "cold_factor": 5.0, "newer_key": True}  # fmt: skip
    scaler, timing = local_settings(_run_dir(tmp_path, recorded))
    # Polling and hold are not options of a local run: the local stack's defaults.
    assert scaler == ScaleToZeroSettings(
        max_replicas=4, target_concurrency=3.0, scale_to_zero_after=12.0, scale_down_after=7.0
    )
    assert timing == ModelTiming(
        ttft=0.1, prefill_per_token=LOCAL_TIMING.prefill_per_token, itl=LOCAL_TIMING.itl,
        cold_requests=2, cold_factor=5.0,
    )  # fmt: skip


def test_the_record_keeps_the_flat_names_and_reads_back_the_same_options() -> None:
    options = LocalModelOptions.from_record(
        {"model": "m", "idle": 12.0, "ttft": 0.1, "cold_requests": 4, "max_replicas": 1}
    )
    record = options.record()
    assert set(record) == RECORDED_KEYS
    assert [record[k] for k in ("idle", "ttft", "cold_requests", "max_replicas")] == [12.0, 0.1, 4, 1]
    assert LocalModelOptions.from_record(record) == options


def test_the_local_defaults_are_the_documented_ones() -> None:
    record = LocalModelOptions().record()
    assert record == {
        "model": "emulated-llm", "startup_delay": 3.0, "fail_rate": 0.0, "ttft": 0.03,
        "prefill_per_token": 0.00005, "itl": 0.012, "cold_requests": 2, "cold_factor": 3.0,
        "idle": 8.0, "max_replicas": 3, "target_concurrency": 2.0, "scale_down_after": 5.0,
    }  # fmt: skip


def test_an_unknown_option_is_named_with_the_known_ones() -> None:
    # plan's former name for cold_requests: the error says which names there are.
    wanted = r"unknown option\(s\) \['first_requests'\]; fix: use .*'cold_requests'"
    with pytest.raises(TypeError, match=wanted):
        LocalModelOptions.from_record({"first_requests": 2})


def test_the_scaler_process_is_started_with_that_same_rule() -> None:
    options = LocalModelOptions.from_record(
        {"idle": 12.0, "max_replicas": 4, "target_concurrency": 3.0, "scale_down_after": 7.0}
    )
    args = options.scaler_args(9000)
    flags = dict(zip(args[: args.index("--") : 2], args[1 : args.index("--") : 2], strict=True))
    assert flags == {
        "--port": "9000", "--model": "emulated-llm", "--max-replicas": "4",
        "--target-concurrency": "3.0", "--scale-to-zero-after": "12.0", "--scale-down-after": "7.0",
    }  # fmt: skip


def test_each_replica_gets_the_timing_under_the_emulator_flag_names() -> None:
    args = LocalModelOptions.from_record({"ttft": 0.1, "cold_factor": 2.0}).replica_args()
    flags = dict(zip(args[::2], args[1::2], strict=True))
    assert flags == {
        "--startup-delay": "3.0", "--ttft": "0.1", "--prefill-per-token": "5e-05", "--itl": "0.012",
        "--cold-requests": "2", "--cold-factor": "2.0", "--fail-rate": "0.0",
    }  # fmt: skip


def test_a_run_without_recorded_options_uses_the_local_defaults(tmp_path: Path) -> None:
    scaler, timing = local_settings(_run_dir(tmp_path, {}))
    assert scaler == ScaleToZeroSettings()
    assert timing == LOCAL_TIMING
