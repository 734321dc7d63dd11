"""Helm's merge of chart defaults, -f layers and --set, with marks following the winner."""

from __future__ import annotations

import pytest

from llmaz_serverless.values.loader import load_text
from llmaz_serverless.values.merge import SetSyntaxError, merge_values, typed_value

DEFAULTS = load_text(
    "gateway:\n  replicas: 2\n  port: 8080\nlist: [1, 2]\ndrop: {a: 1}\nkeep: x\n", "chart/values.yaml"
)


def test_later_file_wins_and_maps_merge_when_layered() -> None:
    a = load_text("gateway:\n  replicas: 3\nlist: [9]\n", "a.yaml")
    b = load_text("gateway:\n  replicas: 4\n", "b.yaml")
    merged = merge_values(DEFAULTS, [a, b])
    assert merged.data == {
        "gateway": {"replicas": 4, "port": 8080},
        "list": [9],
        "drop": {"a": 1},
        "keep": "x",
    }
    assert str(merged.mark(("gateway", "replicas"))) == "b.yaml:2"
    assert str(merged.mark(("gateway", "port"))) == "chart/values.yaml:3"
    assert str(merged.mark(("list", 0))) == "a.yaml:3"


def test_list_is_replaced_not_merged_when_a_later_file_sets_it() -> None:
    a = load_text("models:\n  - name: a\n    x: 1\n  - name: b\n", "a.yaml")
    b = load_text("models:\n  - name: c\n", "b.yaml")
    merged = merge_values(None, [a, b])
    assert merged.data == {"models": [{"name": "c"}]}
    # No stale mark from a.yaml survives for the vanished second entry.
    assert merged.marks.get(("models", 1)) is None


def test_null_deletes_the_chart_default_when_set_by_the_user() -> None:
    merged = merge_values(DEFAULTS, [load_text("drop: null\n", "a.yaml")])
    assert "drop" not in merged.data


def test_set_applies_last_with_helm_typing_when_given() -> None:
    a = load_text("gateway:\n  replicas: 3\n", "a.yaml")
    merged = merge_values(
        DEFAULTS,
        [a],
        ["gateway.replicas=5,gateway.tag=0123", "models[1].name=x", "list={a,true,7}", "k=null"],
    )
    assert merged.data["gateway"] == {"replicas": 5, "port": 8080, "tag": "0123"}
    assert merged.data["models"] == [None, {"name": "x"}]
    assert merged.data["list"] == ["a", True, 7]
    assert merged.data["k"] is None
    assert str(merged.mark(("gateway", "replicas"))) == "--set gateway.replicas"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("0", 0),
        ("42", 42),
        ("-3", -3),
        ("007", "007"),
        ("1.5", "1.5"),
    ],
)
def test_set_values_are_typed_like_helm_when_parsed(text: str, value: object) -> None:
    assert typed_value(text) == value


def test_escaped_separators_stay_in_keys_and_values_when_quoted() -> None:
    merged = merge_values(None, [], [r"annotations.a\.b/c=x\,y"])
    assert merged.data == {"annotations": {"a.b/c": "x,y"}}


@pytest.mark.parametrize("expression", ["novalue", "=x", "a..b=1", "a=1,b"])
def test_bad_set_is_a_usage_error_when_helm_would_refuse_it(expression: str) -> None:
    with pytest.raises(SetSyntaxError):
        merge_values(None, [], [expression])
