from __future__ import annotations

from pathlib import Path

import pytest

from llmaz_serverless.report.thresholds import ThresholdsError, default_path, evaluate, load_thresholds


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return path


def test_later_sections_override_earlier_ones_when_they_name_the_same_key(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "defaults: {error_rate: {max: 0.0}}\nlocal: {error_rate: {max: 0.5}}\n"
        "scenarios: {s1: {error_rate: {max: 0.9}}}\n",
    )
    assert load_thresholds(path, "other", local=False) == {"error_rate": {"max": 0.0}}
    assert load_thresholds(path, "other", local=True) == {"error_rate": {"max": 0.5}}
    assert load_thresholds(path, "s1", local=True) == {"error_rate": {"max": 0.9}}


def test_checks_pass_fail_and_skip_when_evaluated() -> None:
    rules = {"error_rate": {"max": 0.01}, "cold_events": {"min": 2}, "ttft_p99_s": {"max": 1.0}}
    status = {
        c.key: c.status for c in evaluate({"error_rate": 0.02, "cold_events": 2, "ttft_p99_s": None}, rules)
    }
    assert status == {"error_rate": "FAIL", "cold_events": "pass", "ttft_p99_s": "skipped"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("defaults: {error_rat: {max: 1}}", "defaults.error_rat: unknown metric"),
        ("defaults: {error_rate: {below: 1}}", "expected {max: N} or {min: N}"),
        ("default: {}", "unknown section"),
    ],
)
def test_malformed_file_names_the_entry_when_loaded(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ThresholdsError, match=r"t\.yaml") as err:
        load_thresholds(_file(tmp_path, text), "s", local=True)
    assert fragment in str(err.value)


def test_repository_thresholds_file_is_valid_when_loaded_for_every_scenario() -> None:
    from llmaz_serverless.loadtest.catalog import SCENARIOS

    for name in SCENARIOS:
        assert load_thresholds(default_path(), name, local=True)
