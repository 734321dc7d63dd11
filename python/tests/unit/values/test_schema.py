"""The chart's values.schema.json, read at run time (never a copy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless.values.schema import ChartSchemaError, chart_validator, schema_problems


def test_real_chart_schema_accepts_its_own_defaults_when_loaded() -> None:
    import yaml

    defaults = yaml.safe_load((chart_dir() / "values.yaml").read_text(encoding="utf-8"))
    assert schema_problems(chart_validator(chart_dir()), defaults) == []


def test_schema_edit_is_seen_when_the_chart_file_changes(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    chart.mkdir()
    path = chart / "values.schema.json"
    path.write_text(
        json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}}), encoding="utf-8"
    )
    assert schema_problems(chart_validator(chart), {"a": "x"})[0].what == "must be an integer, not string"
    path.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}), encoding="utf-8")
    import os

    os.utime(path, ns=(1, 10**18))  # a new mtime, as an edit would give
    assert schema_problems(chart_validator(chart), {"a": "x"}) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), ("{not json", "not valid JSON"), ('{"type": 5}', "not a valid JSON schema")],
)
def test_unusable_schema_is_a_chart_error_when_missing_or_broken(
    tmp_path: Path, content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "values.schema.json").write_text(content, encoding="utf-8")
    with pytest.raises(ChartSchemaError, match=message):
        chart_validator(tmp_path)
