"""The one ScaledObject per model: target, triggers, scale to zero, metrics at zero."""

from __future__ import annotations

import pytest
from helmrender import (
    ALL_VALUE_FILES,
    NAMESPACE,
    RELEASE,
    model,
    models_json,
    render,
)


def _triggers(so: dict) -> dict[str, dict]:
    return {t["name"]: t for t in so["spec"]["triggers"]}


@pytest.mark.parametrize("values", ALL_VALUE_FILES)
def test_exactly_one_scaledobject_per_playground_when_rendering_any_values_file(values: str) -> None:
    out = render(values)
    playgrounds = out.names("Playground")
    targets = [
        so["spec"]["scaleTargetRef"]
        for so in out.kinds("ScaledObject")
        if so["spec"]["scaleTargetRef"]["kind"] == "Playground"
    ]
    assert sorted(t["name"] for t in targets) == sorted(playgrounds)
    for t in targets:
        assert t["apiVersion"] == "inference.llmaz.io/v1alpha1"


@pytest.mark.parametrize("values", ALL_VALUE_FILES)
def test_no_scale_target_has_two_scalers_when_rendering_any_values_file(values: str) -> None:
    out = render(values)
    refs = [
        (so["spec"]["scaleTargetRef"].get("kind", "Deployment"), so["spec"]["scaleTargetRef"]["name"])
        for so in out.kinds("ScaledObject")
    ]
    assert len(refs) == len(set(refs)), refs
    # and nothing else autoscales them: no HPA, no llmaz elasticConfig
    assert not out.kinds("HorizontalPodAutoscaler")
    for pg in out.kinds("Playground"):
        assert "elasticConfig" not in pg["spec"]


@pytest.mark.parametrize("values", ALL_VALUE_FILES)
def test_every_trigger_metadata_value_is_a_string_when_rendering_any_values_file(values: str) -> None:
    for so in render(values).kinds("ScaledObject"):
        for trigger in so["spec"]["triggers"]:
            for key, value in trigger["metadata"].items():
                assert isinstance(value, str), f"{so['metadata']['name']} {trigger['name']}.{key}={value!r}"


@pytest.mark.parametrize("values", ALL_VALUE_FILES)
def test_external_push_names_a_route_that_targets_the_playground_lb_when_rendering_any_values_file(
    values: str,
) -> None:
    out = render(values)
    for so in out.kinds("ScaledObject"):
        if so["spec"]["scaleTargetRef"]["kind"] != "Playground":
            continue
        pg = so["spec"]["scaleTargetRef"]["name"]
        pushes = [t for t in so["spec"]["triggers"] if t["type"] == "external-push"]
        assert len(pushes) == 1
        meta = pushes[0]["metadata"]
        assert meta["scalerAddress"].startswith("keda-add-ons-http-external-scaler.")
        assert meta["scalerAddress"].endswith(":9090")
        if "interceptorRoute" in meta:
            route = out.get("InterceptorRoute", meta["interceptorRoute"])
            assert route["metadata"]["namespace"] == so["metadata"]["namespace"]
            assert route["spec"]["target"] == {"service": f"{pg}-lb", "portName": "http"}
        else:
            legacy = out.get("HTTPScaledObject", meta["httpScaledObject"])
            ref = legacy["spec"]["scaleTargetRef"]
            assert (ref["name"], ref["service"], ref["portName"]) == (pg, f"{pg}-lb", "http")


def test_models_scale_to_zero_by_default_when_only_name_and_source_are_given() -> None:
    so = render("ci/01-single-model-values.yaml").get("ScaledObject", f"{RELEASE}-tiny")
    spec = so["spec"]
    assert spec["minReplicaCount"] == 0
    assert "idleReplicaCount" not in spec
    # a starting model is not scaled back under itself: cooldowns cover the 10m cold start
    assert spec["cooldownPeriod"] >= 600
    assert spec["initialCooldownPeriod"] >= 600
    assert spec["advanced"]["restoreToOriginalReplicaCount"] is False
    assert [t["type"] for t in spec["triggers"]] == ["external-push"]


def test_prometheus_triggers_read_zero_instead_of_failing_when_a_model_has_no_pods() -> None:
    out = render("ci/02-prometheus-triggers-values.yaml")
    so = out.get("ScaledObject", f"{RELEASE}-vllm-model")
    triggers = _triggers(so)
    for name in ("waiting", "kvcache"):
        meta = triggers[name]["metadata"]
        assert meta["ignoreNullValues"] == "true"
        assert meta["query"].endswith(" or vector(0)")
        # metrics never wake a model: only requests, jobs and cron windows do
        assert meta["activationThreshold"] == "0"
        assert f'namespace="{NAMESPACE}"' in meta["query"]
        assert f'pod=~"{RELEASE}-vllm-model-[0-9]+(-[0-9]+)?"' in meta["query"]
    assert triggers["waiting"]["metadata"]["query"].startswith("sum(vllm:num_requests_waiting{")
    assert "vllm:kv_cache_usage_perc" in triggers["kvcache"]["metadata"]["query"]


@pytest.mark.parametrize(
    ("model_name", "waiting_metric", "kv_metric"),
    [
        ("sglang-model", "sglang:num_queue_reqs", "sglang:token_usage"),
        ("tgi-model", "tgi_queue_size", None),
        ("llamacpp-model", "llamacpp:requests_deferred", "llamacpp:kv_cache_usage_ratio"),
        ("ollama-model", None, None),
    ],
)
def test_prometheus_triggers_use_the_backends_metrics_when_the_backend_is_not_vllm(
    model_name: str, waiting_metric: str | None, kv_metric: str | None
) -> None:
    triggers = _triggers(
        render("ci/02-prometheus-triggers-values.yaml").get("ScaledObject", f"{RELEASE}-{model_name}")
    )
    assert (
        (waiting_metric in triggers["waiting"]["metadata"]["query"])
        if waiting_metric
        else "waiting" not in triggers
    )
    assert (kv_metric in triggers["kvcache"]["metadata"]["query"]) if kv_metric else "kvcache" not in triggers


def test_custom_query_expands_the_model_selector_when_the_query_is_overridden() -> None:
    triggers = _triggers(
        render("ci/02-prometheus-triggers-values.yaml").get("ScaledObject", f"{RELEASE}-custom-query")
    )
    query = triggers["waiting"]["metadata"]["query"]
    assert query.startswith(f'sum(my_queue_depth{{namespace="{NAMESPACE}",pod=~"{RELEASE}-custom-query-')
    assert triggers["waiting"]["metadata"]["threshold"] == "2"
    assert "kvcache" not in triggers


def test_no_prometheus_triggers_when_prometheus_is_disabled() -> None:
    out = render("ci/02-prometheus-triggers-values.yaml", sets=["prometheus.enabled=false"])
    for so in out.kinds("ScaledObject"):
        assert all(t["type"] != "prometheus" for t in so["spec"]["triggers"])


def test_queue_triggers_wake_and_hold_the_model_when_async_is_enabled() -> None:
    out = render("ci/05-async-queue-values.yaml")
    batch = _triggers(out.get("ScaledObject", f"{RELEASE}-batch"))
    lag, inflight = batch["queue"], batch["inflight"]
    assert lag["type"] == inflight["type"] == "redis-streams"
    assert lag["metadata"]["stream"] == "llmaz-serverless:async:batch-model"
    assert lag["metadata"]["activationLagCount"] == "0"
    assert "lagCount" in lag["metadata"] and "pendingEntriesCount" not in lag["metadata"]
    assert "pendingEntriesCount" in inflight["metadata"] and "lagCount" not in inflight["metadata"]
    assert lag["metadata"]["address"] == "redis-master.redis.svc:6379"
    assert lag["metadata"]["databaseIndex"] == "2"
    online = _triggers(out.get("ScaledObject", f"{RELEASE}-online"))
    assert set(online) == {"http"}


def test_cron_windows_become_cron_triggers_when_scheduled() -> None:
    triggers = _triggers(render("ci/04-prewarm-cron-values.yaml").get("ScaledObject", f"{RELEASE}-office"))
    assert triggers["cron_afternoons"]["metadata"] == {
        "timezone": "Europe/Berlin",
        "start": "0 13 * * 1-5",
        "end": "0 18 * * 1-5",
        "desiredReplicas": "2",
    }


def test_every_trigger_is_averagevalue_when_fallback_is_enabled() -> None:
    so = render("ci/07-fallback-model-values.yaml").get("ScaledObject", f"{RELEASE}-big")
    assert so["spec"]["fallback"] == {
        "failureThreshold": 3,
        "replicas": 1,
        "behavior": "currentReplicasIfHigher",
    }
    assert {t.get("metricType") for t in so["spec"]["triggers"]} == {"AverageValue"}
    assert so["spec"]["advanced"]["scalingModifiers"] == {
        "formula": "max(http, waiting)",
        "target": "4",
        "activationTarget": "0",
        "metricType": "AverageValue",
    }


def test_no_metric_type_is_forced_when_fallback_is_disabled() -> None:
    so = render("ci/01-single-model-values.yaml").get("ScaledObject", f"{RELEASE}-tiny")
    assert "fallback" not in so["spec"]
    assert all("metricType" not in t for t in so["spec"]["triggers"])


def test_hpa_behavior_and_bounds_come_from_the_model_when_set() -> None:
    behavior = {
        "scaleDown": {
            "stabilizationWindowSeconds": 30,
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        }
    }
    out = render(
        set_json=[
            models_json(
                model(
                    "m",
                    scaling={
                        "maxReplicaCount": 7,
                        "minReplicaCount": 1,
                        "idleReplicaCount": 0,
                        "pollingInterval": 5,
                        "behavior": behavior,
                    },
                )
            )
        ]
    )
    spec = out.get("ScaledObject", f"{RELEASE}-m")["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"], spec["idleReplicaCount"]) == (1, 7, 0)
    assert spec["pollingInterval"] == 5
    got = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert got["scaleDown"] == behavior["scaleDown"]
    # maps merge with modelDefaults: the scale-up default stays
    assert got["scaleUp"]["policies"] == [{"type": "Pods", "value": 2, "periodSeconds": 60}]


def test_no_objects_when_a_model_is_disabled() -> None:
    out = render(set_json=[models_json(model("on"), model("off", enabled=False))])
    for kind in ("OpenModel", "Playground", "InterceptorRoute", "ScaledObject"):
        assert all("off" not in n for n in out.names(kind)), kind
    assert out.names("ScaledObject") == [f"{RELEASE}-on"]
