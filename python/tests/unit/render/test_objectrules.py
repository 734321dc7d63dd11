"""Rules on rendered objects that a schema cannot state."""

from __future__ import annotations

import copy
from typing import Any

from llmaz_serverless.render.documents import RenderedObject
from llmaz_serverless.render.objectrules import check_across, check_names, check_scaled_object


def so(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "inference.llmaz.io/v1alpha1", "kind": "Playground", "name": "p"},
        "triggers": [{"type": "external-push", "name": "http", "metadata": {"interceptorRoute": "p"}}],
    }
    base.update(spec)
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "p"}, "spec": base}


def whats(items: list[Any]) -> list[str]:
    return [e.sentence() for e in items]


def obj(body: dict[str, Any], index: int = 0) -> RenderedObject:
    return RenderedObject(body=body, source="t.yaml", index=index)


def test_scaledobject_passes_when_bounds_are_as_keda_wants() -> None:
    assert check_scaled_object(so(minReplicaCount=0, maxReplicaCount=2)) == []
    # idle 0 under an explicit min of 0 is accepted: KEDA counts min 0 as 1 for this bound.
    assert check_scaled_object(so(minReplicaCount=0, idleReplicaCount=0)) == []
    assert check_scaled_object(so(minReplicaCount=2, idleReplicaCount=0, maxReplicaCount=3)) == []


def test_scaledobject_is_rejected_when_max_below_min() -> None:
    assert whats(check_scaled_object(so(minReplicaCount=3, maxReplicaCount=2))) == [
        "spec.maxReplicaCount: is below minReplicaCount (3) (got 2); fix: set maxReplicaCount >= "
        "minReplicaCount"
    ]


def test_scaledobject_is_rejected_when_idle_not_below_min() -> None:
    found = whats(check_scaled_object(so(minReplicaCount=0, idleReplicaCount=1)))
    assert found[0].startswith(
        "spec.idleReplicaCount: must be below minReplicaCount (1 as KEDA counts it) (got 1)"
    )
    # An absent minReplicaCount counts as 0 and then no idle value fits.
    assert whats(check_scaled_object(so(idleReplicaCount=0)))[0].endswith(
        "fix: set minReplicaCount too (idleReplicaCount only works below it)"
    )


def test_trigger_names_are_errors_when_repeated() -> None:
    body = so()
    body["spec"]["triggers"].append({"type": "cron", "name": "http", "metadata": {}})
    assert whats(check_scaled_object(body)) == [
        'spec.triggers[1].name: repeats the name of triggers[0] (got "http"); fix: give every trigger a '
        "unique name"
    ]


def test_cached_metrics_are_errors_when_the_scaler_cannot_cache() -> None:
    body = so()
    body["spec"]["triggers"].append({"type": "cron", "name": "c", "useCachedMetrics": True, "metadata": {}})
    assert "is not supported by the cron scaler" in whats(check_scaled_object(body))[0]


def test_fallback_is_an_error_when_no_trigger_has_averagevalue() -> None:
    body = so(fallback={"failureThreshold": 3, "replicas": 1})
    assert check_scaled_object(body) == []  # metricType unset means AverageValue
    body["spec"]["triggers"][0]["metricType"] = "Value"
    assert whats(check_scaled_object(body))[0].startswith(
        "spec.fallback: needs at least one trigger (not cpu/memory) with metricType AverageValue"
    )


def test_formula_is_an_error_when_it_names_no_trigger() -> None:
    body = so(advanced={"scalingModifiers": {"formula": "max(htp, 1)", "target": "1"}})
    assert whats(check_scaled_object(body)) == [
        'spec.advanced.scalingModifiers.formula: names `htp`, which is no trigger (got "max(htp, 1)"); '
        "fix: did you mean `http`?"
    ]
    body["spec"]["advanced"]["scalingModifiers"]["formula"] = "max(http, 1)"
    assert check_scaled_object(body) == []


def test_formula_explains_the_dash_when_a_trigger_name_has_one() -> None:
    body = so(advanced={"scalingModifiers": {"formula": "cron-night + http", "target": "1"}})
    body["spec"]["triggers"].append({"type": "cron", "name": "cron-night", "metadata": {}})
    found = whats(check_scaled_object(body))
    assert found and all("which a formula reads as subtraction" in f for f in found)


def test_names_are_errors_when_the_api_server_would_refuse_them() -> None:
    assert (
        check_names(obj({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "ok-name.x"}})) == []
    )
    bad = obj({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "Bad_Name"}})
    assert whats(check_names(bad))[0].startswith("metadata.name: is not a valid object name")
    svc = obj({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "a" * 64}})
    assert "DNS-1035" in whats(check_names(svc))[0]
    pg = obj(
        {"kind": "Playground", "apiVersion": "inference.llmaz.io/v1alpha1", "metadata": {"name": "p" * 61}}
    )
    assert "llmaz names its Service `<name>-lb`" in whats(check_names(pg))[0]
    label = obj(
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x", "labels": {"a": "v" * 64}}}
    )
    assert whats(check_names(label))[0].startswith("metadata.labels.a: is not a valid label value")
    missing = obj({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {}})
    assert whats(check_names(missing)) == ["metadata.name: is required but missing; fix: set a name"]


def _pg(name: str = "p", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "inference.llmaz.io/v1alpha1",
        "kind": "Playground",
        "metadata": {"name": name},
        "spec": spec,
    }


def _route(name: str = "p", service: str = "p-lb") -> dict[str, Any]:
    return {
        "apiVersion": "http.keda.sh/v1beta1",
        "kind": "InterceptorRoute",
        "metadata": {"name": name},
        "spec": {"target": {"service": service, "portName": "http"}},
    }


def across(*bodies: dict[str, Any]) -> list[tuple[int, str]]:
    objects = [obj(copy.deepcopy(b), i) for i, b in enumerate(bodies)]
    return [(i, e.sentence()) for i, e in check_across(objects, "ns")]


def test_manifest_passes_when_target_route_and_service_line_up() -> None:
    assert across(_pg(), _route(), so()) == []


def test_second_scaler_is_an_error_when_it_targets_the_same_playground() -> None:
    second = so()
    second["metadata"]["name"] = "p2"
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "inference.llmaz.io/v1alpha1", "kind": "Playground", "name": "p"}
        },
    }
    found = across(_pg(), _route(), so(), second, hpa)
    assert [i for i, _ in found] == [3, 4]
    assert all("already has a scaler" in text for _, text in found)


def test_external_push_is_an_error_when_its_route_is_not_rendered() -> None:
    found = across(_pg(), _route(name="other", service="p-lb"), so())
    assert found == [
        (
            2,
            "spec.triggers[0].metadata.interceptorRoute: names an InterceptorRoute this manifest does not "
            "render "
            '(got "p"); fix: use the name of the model\'s InterceptorRoute',
        )
    ]


def test_scale_target_is_an_error_when_not_rendered() -> None:
    assert "which this manifest does not render" in across(_route(), so())[0][1]


def test_route_is_an_error_when_it_targets_the_lb_of_no_playground() -> None:
    assert across(_pg(), _route(service="q-lb"), so()) == [
        (
            1,
            "spec.target.service: is an llmaz `<playground>-lb` Service of no rendered Playground (got "
            '"q-lb"); '
            "fix: target `<playground name>-lb` of the model's Playground",
        )
    ]


def test_elastic_config_is_an_error_when_keda_scales_the_playground() -> None:
    found = across(_pg(elasticConfig={"maxReplicas": 2}), _route(), so())
    assert found == [
        (
            0,
            "spec.elasticConfig: is set on a Playground KEDA scales: llmaz would create its own HPA beside "
            "KEDA's; "
            "fix: remove elasticConfig; the ScaledObject owns scaling",
        )
    ]
    # Unscaled, elasticConfig is llmaz's business.
    assert across(_pg(elasticConfig={"maxReplicas": 2})) == []
