from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from llmaz_serverless.events.rules import EventRule, RuleSet, RuleSetError


def rule(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "chat-ui-opened",
        "pattern": {"type": ["com.example.chat.session.opened"]},
        "actions": [{"prewarm": {"models": ["chat-8b"], "replicas": 2, "window": "15m"}}],
    }
    base.update(overrides)
    return base


def test_rule_parses_camel_case_and_durations():
    r = EventRule.model_validate(rule(matchAll=False))
    assert r.actions[0].prewarm is not None
    assert r.actions[0].prewarm.window == 900.0
    assert r.actions[0].kind == "prewarm"
    assert r.models() == {"chat-8b"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pattern": {}}, "the pattern is empty, so this rule would match every event.*matchAll: true"),
        ({"pattern": {"type": ["x"]}, "matchAll": True}, "matchAll is true but a pattern is set"),
        ({"name": "Chat_UI"}, "String should match pattern"),
        ({"actions": []}, "at least 1 item"),
        ({"actions": [{}]}, "exactly one of `prewarm` or `submit`, got neither"),
        (
            {"actions": [{"prewarm": {"models": ["a"]}, "submit": {"model": "a", "request": {"x": 1}}}]},
            "got prewarm and submit",
        ),
        ({"actions": [{"prewarm": {"models": []}}]}, "at least 1 item"),
        ({"actions": [{"prewarm": {"models": ["a", "a"]}}]}, "lists a more than once"),
        ({"actions": [{"prewarm": {"models": ["a"], "window": "0"}}]}, "window must be longer than zero"),
        ({"actions": [{"prewarm": {"models": ["a"], "window": "200h"}}]}, "longer than 7 days"),
        ({"actions": [{"prewarm": {"models": ["a"], "replicas": 0}}]}, "greater than or equal to 1"),
        (
            {"actions": [{"prewarm": {"models": ["a"], "replica": 1}}]},
            "replica\n  Extra inputs are not permitted",
        ),
        ({"patern": {"type": ["x"]}}, "patern\n  Extra inputs are not permitted"),
        ({"pattern": {"type": "x"}}, r"pattern.type: expected a list"),
        (
            {"actions": [{"submit": {"model": "a", "request": {"p": "${data.}"}}}]},
            r"request\.p: bad placeholder",
        ),
        (
            {"actions": [{"submit": {"model": "a", "api": "embeddings", "request": {"x": 1}}}]},
            "'chat' or 'completions'",
        ),
        ({"actions": [{"submit": {"model": "a", "request": {}}}]}, "at least 1 item"),
    ],
)
def test_rule_is_rejected_with_a_readable_reason_when_invalid(overrides, message):
    with pytest.raises(ValidationError, match=message):
        EventRule.model_validate(rule(**overrides))


def test_match_all_rule_matches_every_event_when_said_explicitly():
    r = EventRule.model_validate(rule(pattern={}, matchAll=True))
    assert r.compiled.matches({"type": "anything"})


def test_rule_set_refuses_duplicate_names():
    with pytest.raises(RuleSetError, match="two rules are named 'chat-ui-opened'"):
        RuleSet([EventRule.model_validate(rule()), EventRule.model_validate(rule())])


def test_rule_set_skips_disabled_rules_when_matching():
    on = EventRule.model_validate(rule(name="on"))
    off = EventRule.model_validate(rule(name="off", enabled=False))
    rules = RuleSet([on, off])
    assert [r.name for r in rules.matching({"type": "com.example.chat.session.opened"})] == ["on"]
    assert rules.prewarm_models() == {"chat-8b"}


def test_unknown_models_names_rule_action_and_known_models():
    r = EventRule.model_validate(
        rule(
            actions=[
                {"prewarm": {"models": ["chat-8b", "ghost"]}},
                {"submit": {"model": "batch-70b", "request": {"x": 1}}},
            ]
        )
    )
    problems = RuleSet([r]).unknown_models(["chat-8b"])
    assert problems == [
        "eventRules[0] (chat-ui-opened).actions[0].prewarm: model 'ghost' is not in models (known: chat-8b); "
        "add it to models or fix the name",
        "eventRules[0] (chat-ui-opened).actions[1].submit: model 'batch-70b' is not in models "
        "(known: chat-8b); add it to models or fix the name",
    ]
    with pytest.raises(RuleSetError, match="ghost"):
        RuleSet([r]).check_models(["chat-8b"])


types = st.sampled_from(["a", "b", "c"])


@settings(max_examples=150, deadline=None)
@given(
    rule_types=st.lists(
        st.one_of(st.none(), st.lists(types, min_size=1, max_size=2), st.just("prefix")), max_size=6
    ),
    event_type=st.one_of(types, st.just("d"), st.none()),
    color=st.sampled_from(["red", "blue"]),
)
def test_type_index_matches_exactly_what_testing_every_rule_would(rule_types, event_type, color):
    rules = []
    for i, t in enumerate(rule_types):
        pattern: dict[str, Any] = {"data": {"color": [color if i % 2 else "red"]}}
        if t == "prefix":
            pattern["type"] = [{"prefix": "a"}]
        elif t is not None:
            pattern["type"] = t
        rules.append(EventRule.model_validate(rule(name=f"r{i}", pattern=pattern)))
    document: dict[str, Any] = {"data": {"color": color}}
    if event_type is not None:
        document["type"] = event_type
    expected = [r.name for r in rules if r.compiled.matches(document)]
    assert [r.name for r in RuleSet(rules).matching(document)] == expected
