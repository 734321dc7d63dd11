"""Labels and selectors: standard labels everywhere, selectors that match their pods."""

from __future__ import annotations

import pytest
from helmrender import ALL_VALUE_FILES, RELEASE, render

STANDARD = {
    "app.kubernetes.io/name": "llmaz-serverless",
    "app.kubernetes.io/instance": RELEASE,
    "app.kubernetes.io/managed-by": "Helm",
    "app.kubernetes.io/part-of": "llmaz-serverless",
}


@pytest.mark.parametrize("values", ALL_VALUE_FILES)
def test_every_object_has_the_standard_labels_when_rendering_any_values_file(values: str) -> None:
    for obj in render(values).objects:
        labels = obj["metadata"].get("labels", {})
        assert STANDARD.items() <= labels.items(), (obj["kind"], obj["metadata"]["name"], labels)
        assert labels["helm.sh/chart"] == "llmaz-serverless-0.1.0"


@pytest.mark.parametrize("values", ALL_VALUE_FILES)
def test_selectors_match_their_pods_and_nothing_else_when_rendering_any_values_file(values: str) -> None:
    out = render(values)
    deployments = out.kinds("Deployment")
    for dep in deployments:
        selector = dep["spec"]["selector"]["matchLabels"]
        assert selector.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
        # no version in a selector: selectors are immutable across upgrades
        assert "app.kubernetes.io/version" not in selector and "helm.sh/chart" not in selector
        others = [d for d in deployments if d is not dep]
        assert not any(
            selector.items() <= d["spec"]["template"]["metadata"]["labels"].items() for d in others
        )
    for svc in out.kinds("Service"):
        matched = [
            d
            for d in deployments
            if svc["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, svc["metadata"]["name"]


def test_model_objects_name_their_model_when_rendered() -> None:
    out = render("ci/07-fallback-model-values.yaml")
    for kind in ("OpenModel", "Playground", "InterceptorRoute", "ScaledObject"):
        for obj in out.kinds(kind):
            labels = obj["metadata"]["labels"]
            assert labels["app.kubernetes.io/component"] == "model"
            assert obj["metadata"]["name"].endswith(labels["llmaz-serverless.io/model"])


def test_common_labels_reach_every_object_when_set() -> None:
    out = render("ci/05-async-queue-values.yaml", sets=["commonLabels.team=ml"])
    assert all(o["metadata"]["labels"].get("team") == "ml" for o in out.objects)
