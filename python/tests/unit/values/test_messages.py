"""Readable schema errors, tested on a small schema of the test's own."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from llmaz_serverless.values.messages import did_you_mean, explain, format_path, show

SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "Model name. Used in object names."},
        "replicas": {"type": "integer", "minimum": 0, "maximum": 10},
        "ratio": {"type": "number", "exclusiveMinimum": 0},
        "enabled": {"type": "boolean"},
        "mode": {"enum": ["InterceptorRoute", "HTTPScaledObject"]},
        "fixed": {"const": "v1"},
        "timeout": {
            "type": "string",
            "pattern": "^[0-9]+(s|m|h)$",
            "description": "Go duration such as 90s.",
        },
        "hosts": {
            "type": "array",
            "items": {"type": "string"},
            "uniqueItems": True,
            "maxItems": 3,
            "minItems": 1,
        },
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "nested": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"cooldownPeriod": {"type": "integer"}, "pollingInterval": {"type": "integer"}},
        },
        "port": {
            "type": "object",
            "properties": {"number": {"type": "integer"}, "name": {"type": "string"}},
            "additionalProperties": False,
            "oneOf": [{"required": ["number"]}, {"required": ["name"]}],
        },
        "either": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+%$"}]},
        "shape": {
            "oneOf": [
                {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
                {"type": "array"},
            ]
        },
        "pair": {"type": "object", "not": {"required": ["x", "y"]}},
        "deps": {"type": "object", "dependencies": {"tls": ["cert"]}},
    },
}
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def sentences(doc: dict[str, Any]) -> list[str]:
    return sorted(e.sentence() for err in VALIDATOR.iter_errors(doc) for e in explain(err))


def one(doc: dict[str, Any]) -> str:
    found = sentences({"name": "m", **doc})
    assert len(found) == 1, found
    return found[0]


def test_valid_document_has_no_explanations_when_it_fits() -> None:
    assert sentences({"name": "m", "replicas": 2, "port": {"number": 80}, "either": "50%"}) == []


def test_unknown_key_suggests_the_close_name_when_misspelt() -> None:
    assert one({"nested": {"cooldwnPeriod": 1}}) == (
        'nested.cooldwnPeriod: unknown key (got "cooldwnPeriod"); fix: did you mean `cooldownPeriod`?'
    )
    assert one({"Replicas": 1}) == 'Replicas: unknown key (got "Replicas"); fix: did you mean `replicas`?'


def test_unknown_key_lists_allowed_keys_when_nothing_is_close() -> None:
    assert one({"nested": {"zzz": 1}}) == (
        'nested.zzz: unknown key (got "zzz"); fix: remove it; allowed keys here: cooldownPeriod, '
        "pollingInterval"
    )


def test_missing_required_key_names_the_key_and_its_purpose_when_absent() -> None:
    assert sentences({}) == ["name: is required but missing; fix: add `name` (Model name.)"]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"replicas": "3"}, 'replicas: must be an integer, not string (got "3"); fix: drop the quotes: 3'),
        ({"replicas": "many"}, 'replicas: must be an integer, not string (got "many"); '
         "fix: write an integer"),
        ({"replicas": None}, "replicas: must be an integer, not null (got null); fix: set an integer or "
                             "delete the "
         "key to take the chart default"),
        ({"enabled": "yes"}, 'enabled: must be true or false, not string (got "yes"); fix: write true or '
                             'false '
         "without quotes"),
        ({"labels": {"tier": 1}}, 'labels.tier: must be a string, not integer (got 1); fix: quote it: "1"'),
        ({"name": 5}, 'name: must be a string, not integer (got 5); fix: quote it: "5"'),
    ],
)  # fmt: skip
def test_wrong_type_says_what_to_write_when_mistyped(doc: dict[str, Any], expected: str) -> None:
    assert one(doc) == expected


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"replicas": -1}, "replicas: must be >= 0 (got -1); fix: set a value >= 0"),
        ({"replicas": 11}, "replicas: must be <= 10 (got 11); fix: set a value <= 10"),
        ({"ratio": 0}, "ratio: must be > 0 (got 0); fix: set a value > 0"),
        ({"name": ""}, 'name: must not be empty (got ""); fix: Model name.'),
        ({"hosts": []}, "hosts: must not be empty (got a list of 0 items); fix: add at least 1 item(s)"),
        ({"hosts": ["a", "b", "c", "d"]}, "hosts: allows at most 3 items (got a list of 4 items); fix: "
                                          "keep 3 or fewer"),
        ({"hosts": ["a", "a"]}, 'hosts: has duplicate items (got "a"); fix: list each item once'),
        ({"timeout": "10 min"}, 'timeout: has the wrong format (got "10 min"); '
         "fix: Go duration such as 90s."),
        ({"mode": "InterceptorRoutes"}, 'mode: is not one of the allowed values (got "InterceptorRoutes"); '
         'fix: did you mean "InterceptorRoute"?'),
        ({"mode": "zzz"}, 'mode: is not one of the allowed values (got "zzz"); fix: use one of: '
                          '"InterceptorRoute", '
         '"HTTPScaledObject"'),
        ({"fixed": "v2"}, 'fixed: must be "v1" (got "v2"); fix: set it to "v1"'),
    ],
)  # fmt: skip
def test_bounds_and_formats_name_the_limit_when_broken(doc: dict[str, Any], expected: str) -> None:
    assert one(doc) == expected


def test_one_of_required_branches_say_which_to_keep_when_both_or_neither() -> None:
    assert one({"port": {"number": 1, "name": "http"}}) == (
        "port: sets more than one of: number, name (got number, name); fix: keep exactly one of number, name"
    )
    assert (
        one({"port": {}})
        == "port: needs exactly one of: number, name (got none of them); fix: set exactly one of them"
    )


def test_any_of_explains_the_closest_branch_when_none_fits() -> None:
    assert one({"either": "50"}) == (
        'either: must be an integer or a string matching ^[0-9]+%$ (got "50"); fix: drop the quotes: 50'
    )


def test_one_of_shapes_explain_the_closest_branch_when_none_fits() -> None:
    # The mapping branch failed deeper (at shape.a), so that is the error worth showing.
    assert (
        one({"shape": {"a": "x"}})
        == 'shape.a: must be an integer, not string (got "x"); fix: write an integer'
    )


def test_not_required_pair_says_keep_one_when_both_set() -> None:
    assert one({"pair": {"x": 1, "y": 2}}) == "pair: sets x, y together; fix: keep only one of x, y"


def test_dependency_names_the_missing_key_when_a_key_needs_another() -> None:
    assert one({"deps": {"tls": True}}) == "deps.cert: is required when `tls` is set"


def test_paths_and_values_print_as_a_user_writes_them_when_formatted() -> None:
    assert (
        format_path(("models", 0, "labels", "app.kubernetes.io/name"))
        == 'models[0].labels."app.kubernetes.io/name"'
    )
    assert format_path(()) == "(root)"
    assert show(True) == "true" and show(None) == "null" and show("x") == '"x"'
    assert show({"a": 1, "b": 2}) == "a mapping {a, b}"
    assert len(show("x" * 500)) <= 160


def test_did_you_mean_is_none_when_nothing_is_close() -> None:
    assert did_you_mean("minReplicas", ["minReplicaCount", "maxReplicaCount"]) == "minReplicaCount"
    assert did_you_mean("qwerty", ["minReplicaCount"]) is None
