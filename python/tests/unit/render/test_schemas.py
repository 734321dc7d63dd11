"""The hand-written CRD schemas: well-formed, traceable, and strict where the Go types are."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from llmaz_serverless.render.schemas import (
    SchemaNotFoundError,
    SchemaStore,
    UnsupportedKubeVersionError,
    available_kube_versions,
    crd_schema_files,
    resolve_kube_version,
)
from llmaz_serverless.values.messages import explain

EXPECTED_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "ScaledJob"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("keda.sh/v1alpha1", "ClusterTriggerAuthentication"),
    ("http.keda.sh/v1beta1", "InterceptorRoute"),
    ("http.keda.sh/v1alpha1", "HTTPScaledObject"),
    ("llmaz.io/v1alpha1", "OpenModel"),
    ("inference.llmaz.io/v1alpha1", "Playground"),
    ("inference.llmaz.io/v1alpha1", "Service"),
    ("inference.llmaz.io/v1alpha1", "BackendRuntime"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("cert-manager.io/v1", "Certificate"),
    ("cert-manager.io/v1", "Issuer"),
}


def sentences(store: SchemaStore, body: dict[str, Any]) -> list[str]:
    validator, _ = store.validator(body["apiVersion"], body["kind"])
    return [e.sentence() for err in validator.iter_errors(body) for e in explain(err)]


def test_every_expected_kind_has_a_schema_file_when_listed() -> None:
    assert set(crd_schema_files()) == EXPECTED_KINDS


@pytest.mark.parametrize(("api_version", "kind"), sorted(EXPECTED_KINDS))
def test_schema_is_valid_and_names_its_upstream_when_loaded(api_version: str, kind: str) -> None:
    path = crd_schema_files()[(api_version, kind)]
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/{api_version}/{kind}.json")
    # Each schema says which upstream version and file it was written from.
    assert any(
        word in schema["$comment"]
        for word in ("KEDA 2.20", "0.15.0", "llmaz 0.1.4", "prometheus-operator 0.84", "cert-manager 1.16")
    )
    assert ".go" in schema["$comment"] or ".md" in schema["$comment"]
    assert schema["properties"]["apiVersion"] == {"const": api_version}
    assert schema["additionalProperties"] is False


def test_every_object_schema_forbids_unknown_fields_when_types_define_them() -> None:
    def walk(node: Any, where: str) -> list[str]:
        missing = []
        if isinstance(node, dict):
            props = node.get("properties")
            # An object with listed properties and no additionalProperties would let a typo pass.
            if isinstance(props, dict) and props and "additionalProperties" not in node:
                missing.append(where)
            for key, value in node.items():
                missing += walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                missing += walk(value, f"{where}/{i}")
        return missing

    for path in crd_schema_files().values():
        assert walk(json.loads(path.read_text(encoding="utf-8")), path.name) == []


@pytest.mark.parametrize(("api_version", "kind"), sorted(EXPECTED_KINDS))
def test_sample_validates_when_written_like_the_chart(
    store: SchemaStore, good: dict[str, dict[str, Any]], api_version: str, kind: str
) -> None:
    assert sentences(store, good[kind]) == []


def test_unknown_field_is_an_error_when_anywhere_in_a_crd(store: SchemaStore, good: dict[str, Any]) -> None:
    good["ScaledObject"]["spec"]["advanced"]["scalingModifers"] = {}
    good["InterceptorRoute"]["spec"]["rules"][0]["hostz"] = ["a"]
    good["Playground"]["spec"]["backendRuntimeConfig"]["backend"] = "vllm"
    good["PodMonitor"]["spec"]["podMetricsEndpoints"][0]["intervall"] = "5s"
    assert sentences(store, good["ScaledObject"]) == [
        'spec.advanced.scalingModifers: unknown key (got "scalingModifers"); fix: did you mean '
        "`scalingModifiers`?"
    ]
    assert "did you mean `hosts`?" in sentences(store, good["InterceptorRoute"])[0]
    assert "did you mean `backendName`?" in sentences(store, good["Playground"])[0]
    assert "did you mean `interval`?" in sentences(store, good["PodMonitor"])[0]


def test_core_type_inside_a_crd_is_strict_when_embedded(store: SchemaStore, good: dict[str, Any]) -> None:
    good["BackendRuntime"]["spec"]["startupProbe"]["httpGet"]["pathh"] = "/x"
    good["ScaledJob"]["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": "80"}
    ]
    assert "spec.startupProbe.httpGet.pathh: unknown key" in sentences(store, good["BackendRuntime"])[0]
    assert sentences(store, good["ScaledJob"]) == [
        "spec.jobTargetRef.template.spec.containers[0].ports[0].containerPort: must be an integer, not "
        "string "
        '(got "80"); fix: drop the quotes: 80'
    ]


def test_trigger_metadata_number_is_an_error_when_not_quoted(
    store: SchemaStore, good: dict[str, Any]
) -> None:
    good["ScaledObject"]["spec"]["triggers"][1]["metadata"]["threshold"] = 4
    good["ScaledObject"]["spec"]["triggers"][1]["metadata"]["ignoreNullValues"] = True
    assert sorted(sentences(store, good["ScaledObject"])) == [
        "spec.triggers[1].metadata.ignoreNullValues: must be a string, not boolean (got true); fix: quote "
        'it: "true"',
        'spec.triggers[1].metadata.threshold: must be a string, not integer (got 4); fix: quote it: "4"',
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("minReplicaCount", -1, "spec.minReplicaCount: must be >= 0 (got -1)"),
        ("maxReplicaCount", 0, "spec.maxReplicaCount: must be >= 1 (got 0)"),
        ("pollingInterval", 0, "spec.pollingInterval: must be >= 1 (got 0)"),
        ("cooldownPeriod", -5, "spec.cooldownPeriod: must be >= 0 (got -5)"),
        ("triggers", [], "spec.triggers: must not be empty"),
    ],
)
def test_scaledobject_bounds_are_errors_when_outside_keda_limits(
    store: SchemaStore, good: dict[str, Any], field: str, value: Any, expected: str
) -> None:
    good["ScaledObject"]["spec"][field] = value
    assert sentences(store, good["ScaledObject"])[0].startswith(expected)


def test_fallback_behavior_is_an_error_when_not_a_keda_value(
    store: SchemaStore, good: dict[str, Any]
) -> None:
    good["ScaledObject"]["spec"]["fallback"]["behavior"] = "currentReplicasIfHiger"
    assert sentences(store, good["ScaledObject"]) == [
        'spec.fallback.behavior: is not one of the allowed values (got "currentReplicasIfHiger"); '
        'fix: did you mean "currentReplicasIfHigher"?'
    ]


def test_route_target_needs_exactly_one_port_when_both_or_neither(
    store: SchemaStore, good: dict[str, Any]
) -> None:
    good["InterceptorRoute"]["spec"]["target"]["port"] = 8080
    assert sentences(store, good["InterceptorRoute"]) == [
        "spec.target: sets more than one of: port, portName (got port, portName); fix: keep exactly one of "
        "port, "
        "portName"
    ]
    del good["InterceptorRoute"]["spec"]["target"]["port"]
    del good["InterceptorRoute"]["spec"]["target"]["portName"]
    assert sentences(store, good["InterceptorRoute"]) == [
        "spec.target: needs exactly one of: port, portName (got none of them); fix: set exactly one of them"
    ]


def test_route_rejects_fields_newer_than_0_15_when_present(store: SchemaStore, good: dict[str, Any]) -> None:
    good["InterceptorRoute"]["spec"]["staticRoutes"] = []
    good["InterceptorRoute"]["spec"]["coldStart"]["maxPendingRequests"] = 10
    found = sentences(store, good["InterceptorRoute"])
    assert any(s.startswith("spec.staticRoutes: unknown key") for s in found)
    assert any(s.startswith("spec.coldStart.maxPendingRequests: unknown key") for s in found)


def test_route_placeholder_is_an_error_when_body_and_configmap_both_set(
    store: SchemaStore, good: dict[str, Any]
) -> None:
    good["InterceptorRoute"]["spec"]["coldStart"]["placeholder"]["response"]["bodyFromConfigMap"] = {
        "name": "x"
    }
    assert sentences(store, good["InterceptorRoute"]) == [
        "spec.coldStart.placeholder.response: sets body, bodyFromConfigMap together; "
        "fix: keep only one of body, bodyFromConfigMap"
    ]


def test_route_timeouts_are_errors_when_not_go_durations(store: SchemaStore, good: dict[str, Any]) -> None:
    good["InterceptorRoute"]["spec"]["timeouts"]["readiness"] = "10 minutes"
    assert sentences(store, good["InterceptorRoute"])[0].startswith(
        'spec.timeouts.readiness: has the wrong format (got "10 minutes"); fix:'
    )


def test_route_needs_a_scaling_metric_when_empty(store: SchemaStore, good: dict[str, Any]) -> None:
    good["InterceptorRoute"]["spec"]["scalingMetric"] = {}
    assert sentences(store, good["InterceptorRoute"]) == [
        "spec.scalingMetric: needs at least one of: concurrency, requestRate (got none of them); "
        "fix: set at least one of them"
    ]


def test_cluster_scoped_llmaz_kinds_are_errors_when_namespaced(
    store: SchemaStore, good: dict[str, Any]
) -> None:
    good["OpenModel"]["metadata"]["namespace"] = "models"
    good["BackendRuntime"]["metadata"]["namespace"] = "models"
    assert sentences(store, good["OpenModel"]) == ["metadata.namespace: must not be set here; fix: remove it"]
    assert sentences(store, good["BackendRuntime"]) == [
        "metadata.namespace: must not be set here; fix: remove it"
    ]


def test_playground_claims_are_errors_when_both_forms_set(store: SchemaStore, good: dict[str, Any]) -> None:
    good["Playground"]["spec"]["modelClaims"] = {"models": [{"name": "a"}]}
    assert sentences(store, good["Playground"]) == [
        "spec: sets modelClaim, modelClaims together; fix: keep only one of modelClaim, modelClaims"
    ]


def test_openmodel_flavor_is_an_error_when_using_the_old_requests_field(
    store: SchemaStore, good: dict[str, Any]
) -> None:
    flavor = good["OpenModel"]["spec"]["inferenceConfig"]["flavors"][0]
    flavor["requests"] = flavor.pop("limits")
    assert "did you mean" not in sentences(store, good["OpenModel"])[0]
    assert sentences(store, good["OpenModel"])[0].startswith(
        'spec.inferenceConfig.flavors[0].requests: unknown key (got "requests")'
    )


def test_servicemonitor_is_an_error_when_interval_is_not_a_prometheus_duration(
    store: SchemaStore, good: dict[str, Any]
) -> None:
    good["ServiceMonitor"]["spec"]["endpoints"][0]["interval"] = "15"
    assert sentences(store, good["ServiceMonitor"])[0].startswith(
        'spec.endpoints[0].interval: has the wrong format (got "15")'
    )


def test_store_finds_core_and_crd_kinds_when_asked(store: SchemaStore) -> None:
    assert store.validator("apps/v1", "Deployment")[1].origin == "kubernetes"
    assert store.validator("keda.sh/v1alpha1", "ScaledObject")[1].origin == "crd"
    # llmaz's Service is not the core Service: the CRD schema must win.
    assert store.validator("inference.llmaz.io/v1alpha1", "Service")[1].detail.endswith("_Service.json")
    assert store.validator("v1", "Service")[1].origin == "kubernetes"
    with pytest.raises(SchemaNotFoundError, match=r"render/crds/example\.com_v1_Widget\.json"):
        store.validator("example.com/v1", "Widget")


def test_kube_version_resolves_to_an_installed_minor_when_given_a_patch() -> None:
    assert resolve_kube_version("v1.35.2") == "1.35"
    assert resolve_kube_version("1.99") == available_kube_versions()[-1]
    with pytest.raises(UnsupportedKubeVersionError):
        resolve_kube_version("1.2")
    with pytest.raises(UnsupportedKubeVersionError):
        resolve_kube_version("latest")


def test_openmodel_created_at_is_an_error_when_not_rfc3339(store: SchemaStore, good: dict[str, Any]) -> None:
    good["OpenModel"]["spec"]["createdAt"] = "yesterday"
    assert sentences(store, good["OpenModel"])[0].startswith(
        'spec.createdAt: has the wrong format (got "yesterday")'
    )


def test_certificate_is_an_error_when_issuer_missing_or_usage_unknown(
    store: SchemaStore, good: dict[str, Any]
) -> None:
    del good["Certificate"]["spec"]["issuerRef"]
    good["Certificate"]["spec"]["usages"].append("server-auth")
    assert sorted(sentences(store, good["Certificate"])) == [
        "spec.issuerRef: is required but missing; fix: add `issuerRef`",
        'spec.usages[2]: is not one of the allowed values (got "server-auth"); fix: did you mean "server '
        'auth"?',
    ]


def test_issuer_needs_exactly_one_kind_when_configured(store: SchemaStore, good: dict[str, Any]) -> None:
    good["Issuer"]["spec"]["ca"] = {"secretName": "ca"}
    assert sentences(store, good["Issuer"])[0].startswith(
        "spec: sets more than one of: acme, ca, vault, selfSigned"
    )
