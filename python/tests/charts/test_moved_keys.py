"""Renamed config keys: helm and `validate` both refuse them naming the new place, from one table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from helmrender import CHART, render_error

from llmaz_serverless.values.messages import CONFIG_RENAMES
from llmaz_serverless.values.validate import validate_values


def _chart_table() -> dict[str, str]:
    source = (CHART / "templates" / "_validate.tpl").read_text(encoding="utf-8")
    block = re.search(r"\$moved := dict(.*?)-}}", source, re.DOTALL)
    assert block, "templates/_validate.tpl lost movedKeys' `$moved := dict ...`"
    words = re.findall(r'"([^"]+)"', block.group(1))
    return dict(zip(words[::2], words[1::2], strict=True))


def test_chart_lists_the_same_renames_as_python() -> None:
    assert _chart_table() == {".".join(path): new for path, new in CONFIG_RENAMES.items()}


def _values_with(path: tuple[str, ...], value: str) -> dict[str, object]:
    doc: dict[str, object] = {}
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {})  # type: ignore[assignment]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize("path", sorted(CONFIG_RENAMES), ids=[".".join(p) for p in sorted(CONFIG_RENAMES)])
def test_old_key_fails_naming_its_new_place_in_helm_and_validate(
    path: tuple[str, ...], tmp_path: Path
) -> None:
    new = CONFIG_RENAMES[path]
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(_values_with(path, "3s")), encoding="utf-8")
    old = ".".join(path)
    error = render_error(str(values))
    assert f'{old}: this setting moved (got "3s"); fix: set it as {new} instead. [values/moved-key]' in error
    report = validate_values([values], CHART)
    shown = [e.text() for e in report.errors]
    assert len(report.errors) == 1, shown
    assert report.errors[0].rule == "values/moved-key"
    assert new in (report.errors[0].explanation.fix or ""), shown


@pytest.mark.parametrize("path", sorted(CONFIG_RENAMES), ids=[".".join(p) for p in sorted(CONFIG_RENAMES)])
def test_new_key_renders(path: tuple[str, ...], tmp_path: Path) -> None:
    new = tuple(CONFIG_RENAMES[path].split("."))
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(_values_with(new, "3s")), encoding="utf-8")
    assert validate_values([values], CHART).errors == []
