"""The offline chart-testing lint (scripts/lint_charts.py) and the docs drift check (gen_chart_docs.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helmrender import CHART, load_script

lint_charts = load_script("lint_charts")
gen_chart_docs = load_script("gen_chart_docs")


def test_every_chart_passes_lint_when_the_repository_is_current() -> None:
    assert lint_charts.main([]) == 0


def _chart_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "llmaz-serverless"
    shutil.copytree(CHART, copy)
    return copy


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("version: 0.1.0", "version: 0.1"), "is not SemVer 2"),
        (("apiVersion: v2", "apiVersion: v1"), "apiVersion must be v2"),
        (("name: llmaz-serverless", "name: other"), "differs from the directory"),
        (("type: application", "type: application\nicon2: x"), "unknown key 'icon2'"),
    ],
)
def test_chart_yaml_problems_are_reported_when_chart_yaml_is_wrong(
    tmp_path: Path, edit, message: str
) -> None:
    copy = _chart_copy(tmp_path)
    meta = copy / "Chart.yaml"
    meta.write_text(meta.read_text().replace(*edit, 1))
    problems = lint_charts.check_chart_yaml(copy)
    assert any(message in p for p in problems), problems


def test_yamllint_reports_trailing_spaces_and_duplicate_keys_when_values_have_them(tmp_path: Path) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text("a: 1 \nb: 2\nb: 3\n")
    problems = lint_charts.run_yamllint([bad])
    assert any("trailing-spaces" in p for p in problems)
    assert any("key-duplicates" in p for p in problems)
    assert lint_charts.run_yamllint([CHART / "values.yaml", CHART / "Chart.yaml"]) == []


def test_helm_lint_fails_when_a_ci_values_file_breaks_the_schema(tmp_path: Path) -> None:
    copy = _chart_copy(tmp_path)
    for values in [*copy.glob("ci/*.yaml"), *copy.glob("values-*.yaml")]:
        values.unlink()  # lint only the defaults and the broken file
    (copy / "ci" / "99-broken-values.yaml").write_text("gateway:\n  replicas: many\n")
    problems = lint_charts.helm_lint(copy)
    assert (
        len(problems) == 1
        and "ci/99-broken-values.yaml" in problems[0]
        and "/gateway/replicas" in problems[0]
    )


def test_readme_drift_is_reported_when_a_values_comment_changes(tmp_path: Path) -> None:
    copy = _chart_copy(tmp_path)
    values = copy / "values.yaml"
    values.write_text(values.read_text().replace("Gateway replicas", "How many gateway pods run", 1))
    diff = gen_chart_docs.stale_diff(copy)
    assert "+| `gateway.replicas`" in diff and "How many gateway pods run" in diff
    assert gen_chart_docs.stale_diff(CHART) == ""


def test_undocumented_keys_fail_the_docs_when_a_key_has_no_param_comment(tmp_path: Path) -> None:
    copy = _chart_copy(tmp_path)
    values = copy / "values.yaml"
    values.write_text(values.read_text() + "undocumentedKey: 1\n")
    with pytest.raises(gen_chart_docs.DocsError, match="undocumentedKey"):
        gen_chart_docs.stale_diff(copy)


def test_config_schemas_follow_the_settings_models_when_regenerated() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    for component in ("gateway", "worker", "warmup"):
        assert schema["properties"][component]["properties"]["config"] == gen_chart_docs.section_schema(
            component
        )
    assert gen_chart_docs.stale_schema_diff() == ""
    # keys the chart owns are not settable through config
    assert "port" not in schema["properties"]["gateway"]["properties"]["config"]["properties"]
    assert "cache" in schema["properties"]["gateway"]["properties"]["config"]["properties"]
