"""`validate` on eventRules: the events/* semantic rules, through the real validator and chart schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless.values.rules import rules_by_id
from llmaz_serverless.values.validate import validate_values

CHART = chart_dir("llmaz-serverless")


def _model(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "source": {"modelHub": {"modelID": f"org/{name}"}}, **extra}


def _check(tmp_path: Path, rules: list[dict[str, Any]], **extra: Any) -> list[str]:
    values = {
        "worker": {"enabled": True},
        "models": [
            _model("chat", scaling={"maxReplicaCount": 2}),
            _model("batch", **{"async": {"enabled": True}}),
            _model("retired", enabled=False),
        ],
        "eventRules": rules,
        **extra,
    }
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    report = validate_values([path], CHART)
    return [p.text() for p in report.problems]


def _rule(actions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"name": "r", "pattern": {"type": ["com.example.x"]}, "actions": actions, **extra}


def test_event_rules_are_registered_with_the_validator():
    ids = set(rules_by_id())
    assert {
        "events/invalid-rule",
        "events/pattern-matches-everything",
        "events/duplicate-rule-name",
        "events/unknown-model",
        "events/submit-without-async",
        "events/prewarm-without-gateway",
        "events/prewarm-above-max",
    } <= ids


def test_valid_rules_produce_no_problem(tmp_path):
    rules = [
        _rule([{"prewarm": {"models": ["chat"], "replicas": 2, "window": "15m"}}]),
        {
            "name": "upload",
            "pattern": {"type": ["com.example.upload"], "data": {"size": [{"anythingBut": [0]}]}},
            "actions": [{"submit": {"model": "batch", "request": {"prompt": "${data.url}"}}}],
        },
    ]
    assert _check(tmp_path, rules) == []


def test_empty_pattern_is_an_error_unless_match_all(tmp_path):
    [problem] = _check(tmp_path, [{"name": "r", "actions": [{"prewarm": {"models": ["chat"]}}]}])
    assert "eventRules[0].pattern: is empty, so this rule would match every event" in problem
    assert "[events/pattern-matches-everything]" in problem
    assert (
        _check(tmp_path, [{"name": "r", "matchAll": True, "actions": [{"prewarm": {"models": ["chat"]}}]}])
        == []
    )


def test_unknown_and_disabled_models_are_named_with_a_suggestion(tmp_path):
    problems = _check(tmp_path, [_rule([{"prewarm": {"models": ["chta", "retired"]}}])])
    assert any('prewarm.models[0]: names no model of `models` (got "chta"); fix: did you mean \'chat\'?' in p
               for p in problems), problems  # fmt: skip
    assert any('prewarm.models[1]: names a disabled model (got "retired")' in p for p in problems), problems


def test_pattern_and_template_mistakes_the_schema_cannot_see_are_reported(tmp_path):
    rules = [
        _rule([{"submit": {"model": "batch", "request": {"prompt": "${data..url}"}}}]),
        {"name": "s", "pattern": {"data": {"user": {}}}, "actions": [{"prewarm": {"models": ["chat"]}}]},
    ]
    problems = _check(tmp_path, rules)
    assert any("bad placeholder ${data..url}" in p and "[events/invalid-rule]" in p for p in problems), (
        problems
    )
    assert any("pattern.data.user: an empty mapping constrains nothing" in p for p in problems), problems


def test_duplicate_names_submit_without_async_and_floor_above_max(tmp_path):
    rules = [
        _rule([{"prewarm": {"models": ["chat"], "replicas": 5}}]),
        _rule([{"submit": {"model": "chat", "request": {"x": 1}}}]),
    ]
    problems = _check(tmp_path, rules)
    assert any("eventRules[1].name: is also the name of eventRules[0]" in p for p in problems), problems
    assert any("submit.model: names 'chat', whose async.enabled is false" in p for p in problems), problems
    assert any(
        "warning: eventRules[0].actions[0].prewarm.replicas: asks for more replicas" in p for p in problems
    )


def test_prewarm_without_gateway_is_an_error(tmp_path):
    problems = _check(tmp_path, [_rule([{"prewarm": {"models": ["chat"]}}])], gateway={"enabled": False})
    assert any("[events/prewarm-without-gateway]" in p for p in problems), problems


def test_unknown_keys_are_reported_once_by_the_schema(tmp_path):
    problems = _check(tmp_path, [_rule([{"prewarm": {"models": ["chat"], "replica": 2}}])])
    assert len(problems) == 1, problems
    assert "prewarm.replica: unknown key" in problems[0] and "[schema]" in problems[0]
