"""Loading values files with the line where each value was set."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmaz_serverless.values.loader import Mark, ValuesFileError, load_file, load_text

DOC = """\
# comment
gateway:
  replicas: 2
models:
  - name: llama
    scaling:
      cooldownPeriod: 60
  - name: small
date: 2024-01-01
"""


def test_marks_point_at_the_key_line_when_loaded() -> None:
    loaded = load_text(DOC, "v.yaml")
    assert loaded.marks.find(("gateway", "replicas")) == Mark("v.yaml", 3, 3)
    assert loaded.marks.find(("models", 0, "scaling", "cooldownPeriod")).line == 7
    assert loaded.marks.find(("models", 1)).line == 8
    # A key that is not there points at its nearest parent that is.
    assert loaded.marks.find(("models", 0, "scaling", "minReplicaCount")).line == 6


def test_timestamps_stay_strings_when_read_like_helm() -> None:
    assert load_text(DOC, "v.yaml").data["date"] == "2024-01-01"


def test_keys_become_strings_when_written_as_numbers_or_booleans() -> None:
    assert load_text("1: a\ntrue: b\n", "v.yaml").data == {"1": "a", "true": "b"}


def test_duplicate_keys_are_recorded_when_written_twice() -> None:
    loaded = load_text("a: 1\nb:\n  c: 1\n  c: 2\n", "v.yaml")
    assert loaded.data == {"a": 1, "b": {"c": 2}}
    assert loaded.duplicate_keys == [(("b", "c"), Mark("v.yaml", 4, 3))]


def test_anchors_and_merge_keys_resolve_when_used() -> None:
    loaded = load_text("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n", "v.yaml")
    assert loaded.data["m"] == {"x": 1, "y": 2}


def test_empty_file_is_an_empty_mapping_when_loaded(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n", encoding="utf-8")
    assert load_file(path).data == {}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb: [unclosed\n", 3, "not valid YAML"),
        ("- a\n- b\n", 1, "the top level must be a mapping of keys, not a list"),
        ("a: &x\n  b: *x\n", 1, "recursive anchor"),
        ("? [a, b]\n: 1\n", 1, "a mapping key must be a plain scalar"),
    ],
)
def test_unreadable_values_raise_with_file_and_line_when_malformed(
    text: str, line: int, message: str
) -> None:
    with pytest.raises(ValuesFileError) as err:
        load_text(text, "bad.yaml")
    assert err.value.file == "bad.yaml"
    assert err.value.line == line
    assert message in str(err.value)


def test_missing_file_raises_when_the_path_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValuesFileError, match="no such file"):
        load_file(tmp_path / "nope.yaml")
