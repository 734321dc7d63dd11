"""validate_values end to end on the real chart: every problem, with the file and line to edit."""

from __future__ import annotations

from pathlib import Path

from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless.values.validate import validate_values


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_clean_values_are_valid_when_checked(tmp_path: Path) -> None:
    values = write(
        tmp_path,
        "ok.yaml",
        "models:\n  - name: llama\n    source: {modelHub: {modelID: meta-llama/Llama-3.1-8B-Instruct}}\n",
    )
    report = validate_values([values], chart_dir())
    assert report.problems == [] and report.ok()


def test_every_problem_is_reported_at_once_with_file_and_line_when_several_files_disagree(
    tmp_path: Path,
) -> None:
    base = write(
        tmp_path,
        "base.yaml",
        "gateway:\n  replicas: 2\n  replcas: 3\nmodels:\n"
        "  - name: llama\n    source: {modelHub: {modelID: m/x}}\n    scaling:\n      cooldownPeriod: 60\n",
    )
    prod = write(tmp_path, "prod.yaml", "gateway:\n  replicas: two\n")
    report = validate_values([base, prod], chart_dir())
    texts = [p.text() for p in report.problems]
    assert texts == [
        f'{base}:3: error: gateway.replcas: unknown key (got "replcas"); fix: did you mean `replicas`? '
        "[schema]",
        f"{base}:8: error: models[0].scaling.cooldownPeriod: is shorter than the cold start: "
        "timeouts.coldStart is 10m (got 60); fix: set scaling.cooldownPeriod to at least 600 seconds, or "
        "lower timeouts.coldStart if the model loads faster [scaling/cooldown-below-cold-start]",
        f'{prod}:2: error: gateway.replicas: must be an integer, not string (got "two"); fix: write an '
        "integer "
        "[schema]",
    ]
    assert not report.ok()
    doc = report.as_dict()
    assert doc["errors"] == 3 and doc["problems"][2]["file"] == str(prod) and doc["problems"][2]["line"] == 2


def test_set_values_override_files_and_are_blamed_when_wrong(tmp_path: Path) -> None:
    report = validate_values([], chart_dir(), ["gateway.replicas=-1"])
    assert [p.text() for p in report.problems] == [
        "--set gateway.replicas: error: gateway.replicas: must be >= 0 (got -1); fix: set a value >= 0 "
        "[schema]"
    ]


def test_duplicate_key_is_a_warning_when_written_twice(tmp_path: Path) -> None:
    values = write(tmp_path, "dup.yaml", "gateway:\n  replicas: 2\n  replicas: 3\n")
    report = validate_values([values], chart_dir())
    assert [p.rule for p in report.problems] == ["yaml/duplicate-key"]
    assert report.ok() and not report.ok(strict=True)


def test_skipped_rule_is_not_run_when_asked(tmp_path: Path) -> None:
    values = write(
        tmp_path,
        "v.yaml",
        "models:\n  - name: l\n    source: {uri: 'ollama://q'}\n    flavors: [{name: g, limits: "
        "{nvidia.com/gpu: 1}}]\n",
    )
    assert [p.rule for p in validate_values([values], chart_dir()).problems] == [
        "scheduling/gpu-without-placement"
    ]
    assert (
        validate_values([values], chart_dir(), skip_rules={"scheduling/gpu-without-placement"}).problems == []
    )
