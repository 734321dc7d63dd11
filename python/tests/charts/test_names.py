"""Object names: release- and namespace-scoped, within Kubernetes' limits, unique after trimming."""

from __future__ import annotations

import pytest
from helmrender import ALL_VALUE_FILES, NAMESPACE, RELEASE, model, models_json, render

# Objects whose names get suffixes from controllers: llmaz adds `-lb` and LWS
# pod ordinals to the Playground's name; KEDA names the HPA `keda-hpa-<so>`.
SUFFIXED = {"Playground", "ScaledObject", "InterceptorRoute", "HTTPScaledObject", "Deployment"}


@pytest.mark.parametrize("values", ALL_VALUE_FILES)
def test_names_fit_kubernetes_limits_when_rendering_any_values_file(values: str) -> None:
    for obj in render(values).objects:
        name = obj["metadata"]["name"]
        assert len(name) <= 63, name
        if obj["kind"] in SUFFIXED:
            assert len(name) <= 52, name


def test_long_names_are_trimmed_with_a_hash_and_stay_distinct_when_release_and_models_are_long() -> None:
    release = "a-very-long-release-name-for-testing-limits"
    names = ["m" * 40, "m" * 39 + "n"]
    out = render(set_json=[models_json(*(model(n) for n in names))], release=release, namespace="n" * 40)
    for kind in ("Playground", "ScaledObject", "InterceptorRoute", "OpenModel"):
        got = out.names(kind)
        assert len(set(got)) == 2, got
        assert all(len(n) <= (63 if kind == "OpenModel" else 52) for n in got), got
    for obj in out.objects:
        assert len(obj["metadata"]["name"]) <= 63
    # the route the ScaledObject names is the trimmed one
    for so in out.kinds("ScaledObject"):
        route = so["spec"]["triggers"][0]["metadata"]["interceptorRoute"]
        assert route in out.names("InterceptorRoute")
        assert (
            out.get("InterceptorRoute", route)["spec"]["target"]["service"]
            == so["spec"]["scaleTargetRef"]["name"] + "-lb"
        )


def test_openmodel_names_differ_when_one_release_name_is_used_in_two_namespaces() -> None:
    values = [models_json(model("m"))]
    a = render(set_json=values, namespace="team-a").names("OpenModel")
    b = render(set_json=values, namespace="team-b").names("OpenModel")
    assert a == [f"{RELEASE}-team-a-m"] and b == [f"{RELEASE}-team-b-m"]
    assert render(set_json=values, release="other", namespace="team-a").names("OpenModel") == [
        "other-team-a-m"
    ]


def test_cluster_scoped_objects_carry_the_namespace_when_rendered() -> None:
    out = render(set_json=[models_json(model("m"))])
    for kind in ("OpenModel", "MutatingWebhookConfiguration"):
        for obj in out.kinds(kind):
            assert NAMESPACE in obj["metadata"]["name"]
            assert "namespace" not in obj["metadata"]


def test_playground_claims_its_openmodel_when_rendered() -> None:
    out = render(set_json=[models_json(model("m"))])
    om = out.one("OpenModel")
    assert out.get("Playground", f"{RELEASE}-m")["spec"]["modelClaim"]["modelName"] == om["metadata"]["name"]
    assert om["spec"]["source"] == {"modelHub": {"modelID": "org/m"}}
    assert om["spec"]["familyName"] == "m"
