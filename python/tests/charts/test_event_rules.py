"""eventRules: the pre-warm trigger in each named model's ONE ScaledObject, the runtime `events:`
section the gateway parses, and the values checks (schema and cross-field rules)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helmrender import NAMESPACE, RELEASE, model, render, render_error, render_values

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.events.settings import EventsSettings

CI = "ci/11-event-rules-values.yaml"
GATEWAY = f"http://{RELEASE}-llmaz-serverless-gateway.{NAMESPACE}.svc.cluster.local:80"


def _triggers(so: dict[str, Any]) -> list[dict[str, Any]]:
    return so["spec"]["triggers"]


def _prewarm(so: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in _triggers(so) if t["type"] == "metrics-api"]


def _values(rules: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "worker": {"enabled": True},
        "models": [
            model("chat", servedName="chat-8b"),
            model("batch", **{"async": {"enabled": True}}),
            model("idle"),
        ],
        "eventRules": rules,
        **extra,
    }


def _prewarm_rule(name: str, *models: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "pattern": {"type": [f"com.example.{name}"]},
        "actions": [{"prewarm": {"models": list(models), "window": "15m"}}],
        **extra,
    }


def test_scaledobject_carries_the_prewarm_trigger_when_a_rule_prewarms_the_model():
    out = render(CI)
    chat = out.get("ScaledObject", f"{RELEASE}-chat")
    [trigger] = _prewarm(chat)
    assert trigger == {
        "type": "metrics-api",
        "name": "prewarm",
        "metadata": {
            # The gateway knows models by the id it routes on: the served name.
            "url": f"{GATEWAY}/v1/prewarm/chat-8b",
            "format": "json",
            "valueLocation": "replicas",
            "targetValue": "1",
            "activationTargetValue": "0",
        },
    }
    batch = out.get("ScaledObject", f"{RELEASE}-batch")
    assert [t["metadata"]["url"] for t in _prewarm(batch)] == [f"{GATEWAY}/v1/prewarm/batch"]
    # The other triggers of the model are still there, in the same object.
    assert {t["name"] for t in _triggers(batch)} >= {"http", "queue", "inflight", "prewarm"}


def test_no_prewarm_trigger_when_no_rule_names_the_model():
    out = render(CI)
    assert _prewarm(out.get("ScaledObject", f"{RELEASE}-idle")) == []


def test_still_one_scaledobject_per_model_and_one_prewarm_trigger_when_rules_overlap(tmp_path):
    rules = [_prewarm_rule("a", "chat", "batch"), _prewarm_rule("b", "chat")]
    out = render_values(_values(rules), tmp_path)
    playgrounds = sorted(out.names("Playground"))
    targets = sorted(
        so["spec"]["scaleTargetRef"]["name"]
        for so in out.kinds("ScaledObject")
        if so["spec"]["scaleTargetRef"]["kind"] == "Playground"
    )
    assert targets == playgrounds == [f"{RELEASE}-batch", f"{RELEASE}-chat", f"{RELEASE}-idle"]
    assert len(_prewarm(out.get("ScaledObject", f"{RELEASE}-chat"))) == 1
    assert len(_prewarm(out.get("ScaledObject", f"{RELEASE}-batch"))) == 1


def test_every_prewarm_trigger_metadata_value_is_a_string():
    for so in render(CI).kinds("ScaledObject"):
        for trigger in _prewarm(so):
            assert all(isinstance(v, str) for v in trigger["metadata"].values()), trigger


def test_no_prewarm_trigger_when_the_rule_is_disabled(tmp_path):
    out = render_values(_values([_prewarm_rule("a", "chat", enabled=False)]), tmp_path)
    assert _prewarm(out.get("ScaledObject", f"{RELEASE}-chat")) == []


def test_no_prewarm_trigger_and_events_off_in_runtime_when_events_disabled(tmp_path):
    out = render_values(_values([_prewarm_rule("a", "chat")], events={"enabled": False}), tmp_path)
    assert _prewarm(out.get("ScaledObject", f"{RELEASE}-chat")) == []
    assert out.runtime()["events"]["enabled"] is False


def test_prewarm_trigger_uses_bearer_auth_when_an_authentication_ref_is_set(tmp_path):
    values = _values(
        [_prewarm_rule("a", "chat")],
        events={"config": {"prewarmEndpointAuth": True}, "prewarmTrigger": {"authenticationRef": "gw-key"}},
    )
    [trigger] = _prewarm(render_values(values, tmp_path).get("ScaledObject", f"{RELEASE}-chat"))
    assert trigger["authenticationRef"] == {"name": "gw-key"}
    assert trigger["metadata"]["authMode"] == "bearer"


def test_prewarm_trigger_gets_the_metric_type_when_fallback_needs_it(tmp_path):
    values = _values([_prewarm_rule("a", "chat")])
    values["models"][0]["scaling"] = {"fallback": {"enabled": True}}
    [trigger] = _prewarm(render_values(values, tmp_path).get("ScaledObject", f"{RELEASE}-chat"))
    assert trigger["metricType"] == "AverageValue"


def test_runtime_events_section_parses_in_the_gateway_with_served_names():
    runtime = RuntimeConfig.model_validate(render(CI).runtime())
    settings = runtime.section("events", EventsSettings)
    rules = settings.rule_set()
    # Exactly what the gateway does at startup: every model a rule names must be served.
    rules.check_models({m.name for m in runtime.models})
    assert rules.prewarm_models() == {"chat-8b", "batch"}
    upload = next(r for r in rules.rules if r.name == "nightly-upload")
    submit = upload.actions[1].submit
    assert submit is not None
    assert submit.model == "batch"
    # Integers survive the values -> runtime.yaml round trip (no 1e+06).
    assert submit.request["max_tokens"] == 1000000
    assert submit.request_template.paths == ["data.url"]


def test_runtime_events_section_carries_events_config(tmp_path):
    values = _values(
        [_prewarm_rule("a", "chat")], events={"config": {"maxBatchEvents": 7, "dedupeTtl": "2h"}}
    )
    settings = RuntimeConfig.model_validate(render_values(values, tmp_path).runtime()).section(
        "events", EventsSettings
    )
    assert settings.max_batch_events == 7
    assert settings.dedupe_ttl == 7200.0


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            [{"name": "a", "actions": [{"prewarm": {"models": ["chat"]}}]}],
            "eventRules[0].pattern: is empty, so the rule would match every event",
        ),
        (
            [_prewarm_rule("a", "chat"), _prewarm_rule("a", "batch")],
            'eventRules[1].name: "a" is also the name of eventRules[0]',
        ),
        (
            [_prewarm_rule("a", "ghost")],
            'eventRules[0].actions[0].prewarm.models[0]: names no model of models (got "ghost")',
        ),
        (
            [
                {
                    "name": "a",
                    "pattern": {"type": ["x"]},
                    "actions": [{"submit": {"model": "chat", "request": {"x": 1}}}],
                }
            ],
            'eventRules[0].actions[0].submit.model: "chat" is not served on the async path',
        ),
        (
            [
                {
                    "name": "a",
                    "pattern": {"type": ["x"]},
                    "matchAll": True,
                    "actions": [{"prewarm": {"models": ["chat"]}}],
                }
            ],
            "eventRules[0].matchAll: is true but a pattern is set",
        ),
    ],
)
def test_release_fails_with_the_rule_named_when_event_rules_do_not_fit_the_models(tmp_path, rules, message):
    path = tmp_path / "v.yaml"
    path.write_text(json.dumps(_values(rules)))
    assert message in render_error(str(path))


def test_release_fails_when_a_disabled_model_is_prewarmed(tmp_path):
    values = _values([_prewarm_rule("a", "idle")])
    values["models"][2]["enabled"] = False
    path = tmp_path / "v.yaml"
    path.write_text(json.dumps(values))
    assert 'prewarm.models[0]: names a disabled model (got "idle")' in render_error(str(path))


def test_release_fails_when_prewarm_rules_exist_without_the_gateway(tmp_path):
    values = _values([_prewarm_rule("a", "chat")], gateway={"enabled": False})
    path = tmp_path / "v.yaml"
    path.write_text(json.dumps(values))
    assert "pre-warm windows are kept by the gateway (got gateway.enabled false)" in render_error(str(path))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({**_prewarm_rule("a", "chat"), "patern": {}}, "additional properties 'patern' not allowed"),
        (
            {
                "name": "a",
                "pattern": {"type": ["x"]},
                "actions": [{"prewarm": {"models": ["chat"], "replica": 2}}],
            },
            "additional properties 'replica' not allowed",
        ),
        ({"name": "a", "pattern": {"Type": ["x"]}, "actions": [{"prewarm": {"models": ["chat"]}}]}, "'Type'"),
        (
            {"name": "a", "pattern": {"type": "x"}, "actions": [{"prewarm": {"models": ["chat"]}}]},
            "/pattern/type",
        ),
        (
            {
                "name": "a",
                "pattern": {"type": [{"prefx": "x"}]},
                "actions": [{"prewarm": {"models": ["chat"]}}],
            },
            "/type/0",
        ),
        (
            {
                "name": "a",
                "pattern": {"type": ["x"]},
                "actions": [{"prewarm": {"models": ["chat"]}, "submit": {}}],
            },
            "maxProperties",
        ),
    ],
)
def test_schema_rejects_unknown_fields_and_malformed_patterns(tmp_path, rule, message):
    path = tmp_path / "v.yaml"
    path.write_text(json.dumps(_values([rule])))
    assert message in render_error(str(path))


def _aliases(model: type) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def test_schema_of_events_config_lists_exactly_the_settings_keys_the_chart_does_not_write():
    from helmrender import CHART

    from llmaz_serverless.events.settings import StreamSettings

    schema = json.loads((CHART / "values.schema.json").read_text())
    config = schema["properties"]["events"]["properties"]["config"]
    # `enabled` comes from events.enabled and `rules` from eventRules.
    assert set(config["properties"]) == _aliases(EventsSettings) - {"enabled", "rules"}
    assert set(config["properties"]["stream"]["properties"]) == _aliases(StreamSettings)
    assert config["additionalProperties"] is False


def test_gateway_network_policy_lets_keda_read_the_prewarm_state_when_rules_prewarm(tmp_path):
    peer = {"podSelector": {"matchLabels": {"app": "chat-ui"}}}
    keda = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}
    policy = {"gateway": {"networkPolicy": {"enabled": True, "ingressFrom": [peer]}}}
    with_rules = render_values(_values([_prewarm_rule("a", "chat")], **policy), tmp_path)
    [rule] = with_rules.one("NetworkPolicy")["spec"]["ingress"]
    assert rule["from"] == [peer, keda]
    without = render_values(_values([], **policy), tmp_path)
    [rule] = without.one("NetworkPolicy")["spec"]["ingress"]
    assert rule["from"] == [peer]
