"""Compatibility mode for HTTP add-on < 0.14: legacy HTTPScaledObject, still one ScaledObject per model."""

from __future__ import annotations

from helmrender import RELEASE, render

OUT = "ci/06-legacy-httpscaledobject-values.yaml"


def test_legacy_object_skips_its_own_scaledobject_when_the_legacy_api_is_chosen() -> None:
    out = render(OUT)
    assert not out.kinds("InterceptorRoute")
    for hso in out.kinds("HTTPScaledObject"):
        assert hso["apiVersion"] == "http.keda.sh/v1alpha1"
        assert hso["metadata"]["annotations"]["httpscaledobject.keda.sh/skip-scaledobject-creation"] == "true"
    assert sorted(out.names("ScaledObject")) == sorted(out.names("HTTPScaledObject"))


def test_legacy_object_routes_and_scales_like_the_route_would_when_the_legacy_api_is_chosen() -> None:
    spec = render(OUT).get("HTTPScaledObject", f"{RELEASE}-legacy")["spec"]
    assert spec["hosts"] == [f"{RELEASE}-legacy"]
    assert spec["pathPrefixes"] == ["/legacy"]
    assert spec["headers"] == [{"name": "x-llmaz-serverless-route", "value": f"{RELEASE}-legacy"}]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "inference.llmaz.io/v1alpha1",
        "kind": "Playground",
        "name": f"{RELEASE}-legacy",
        "service": f"{RELEASE}-legacy-lb",
        "portName": "http",
    }
    assert spec["replicas"] == {"min": 0, "max": 2}
    assert spec["timeouts"] == {"conditionWait": "10m", "responseHeader": "5m"}
    assert spec["scalingMetric"] == {"concurrency": {"targetValue": 8}}


def test_legacy_object_takes_request_rate_alone_when_rate_scaling_is_enabled() -> None:
    spec = render(OUT).get("HTTPScaledObject", f"{RELEASE}-legacy-rate")["spec"]
    assert spec["scalingMetric"] == {"requestRate": {"targetValue": 5, "window": "1m", "granularity": "1s"}}


def test_scaledobject_names_the_httpscaledobject_when_the_legacy_api_is_chosen() -> None:
    so = render(OUT).get("ScaledObject", f"{RELEASE}-legacy")
    push = so["spec"]["triggers"][0]
    assert push["type"] == "external-push"
    assert push["metadata"] == {
        "scalerAddress": "keda-add-ons-http-external-scaler.keda.svc.cluster.local:9090",
        "httpScaledObject": f"{RELEASE}-legacy",
    }


def test_legacy_failover_uses_the_fallback_service_when_fallback_is_enabled() -> None:
    out = render("ci/07-fallback-model-values.yaml", sets=["httpAddon.api=HTTPScaledObject"])
    spec = out.get("HTTPScaledObject", f"{RELEASE}-big")["spec"]
    assert spec["coldStartTimeoutFailoverRef"] == {
        "service": f"{RELEASE}-small-lb",
        "portName": "http",
        "timeoutSeconds": 20,
    }
