"""Negative table: every file in bad_values/ must fail `helm template` with the message in its header.

A file's first line is `# expect: <text>`; the text must appear in helm's
error, which is either Helm's schema error naming the field or the chart's
VALUES VALIDATION message naming the field, the value and the fix. Each
cross-field rule of templates/_validate.tpl has at least one file here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helmrender import CHART, render_error

BAD = Path(__file__).parent / "bad_values"
FILES = sorted(BAD.glob("*.yaml"))


def _expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: <message>'"
    return first[len("# expect: ") :]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_render_fails_with_the_expected_message_when_values_are_bad(path: Path) -> None:
    error = render_error(str(path))
    assert _expected(path) in error, error


def test_every_cross_field_rule_helper_has_a_bad_values_file() -> None:
    source = (CHART / "templates" / "_validate.tpl").read_text(encoding="utf-8")
    listed = re.search(r"\$rules := list(.*?)-}}", source, re.DOTALL)
    assert listed, "templates/_validate.tpl lost its `$rules := list ...`"
    rules = set(re.findall(r'"(\w+)"', listed.group(1)))
    covered = {p.stem.split("-")[0] for p in FILES}
    assert rules - covered == set()


def test_all_problems_are_reported_at_once_when_several_rules_fail(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "worker: {enabled: true}\n"
        "models:\n"
        "  - name: a\n"
        "    source: {uri: 'ollama://a'}\n"
        "    scaling: {cooldownPeriod: 10, minReplicaCount: 5, idleReplicaCount: 0}\n",
        encoding="utf-8",
    )
    error = render_error(str(path))
    assert "models[0].scaling.cooldownPeriod" in error
    assert "models[0].scaling.minReplicaCount" in error
    assert "worker.enabled" in error
