"""Every object the chart renders validates: defaults, every preset, example and ci scenario.

Core kinds against the Kubernetes OpenAPI schema (kubernetes-validate,
strict), CRD kinds against llmaz_serverless/render/crds, plus the object
rules (KEDA's webhook checks, one scaler per target, routes that exist,
names). Rendering is the real `helm template`, with the Prometheus-operator
API available so ServiceMonitor/PodMonitor are rendered and checked too.
The chart's own values files must also pass `validate` without errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmaz_serverless.render.documents import split_manifest
from llmaz_serverless.render.helm import TemplateRequest, helm_template
from llmaz_serverless.render.schemas import SchemaStore
from llmaz_serverless.render.validate import STATUS_OK, validate_objects
from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless.values.validate import validate_values

pytestmark = pytest.mark.charts

CHART = chart_dir("llmaz-serverless")
RELEASE, NAMESPACE = "rel", "models"
VALUE_FILES = [
    *sorted(p.name for p in CHART.glob("values-*.yaml")),
    *sorted(f"examples/{p.name}" for p in (CHART / "examples").glob("*.yaml")),
    *sorted(f"ci/{p.name}" for p in (CHART / "ci").glob("*-values.yaml")),
]


@pytest.fixture(scope="module")
def store() -> SchemaStore:
    return SchemaStore()


def render_and_validate(store: SchemaStore, files: list[Path], api_versions: list[str]) -> list[str]:
    manifest = helm_template(
        TemplateRequest(
            chart=CHART, values_files=files, release=RELEASE, namespace=NAMESPACE, api_versions=api_versions
        )
    )
    objects = split_manifest(manifest)
    assert objects, "the chart rendered no objects"
    return [
        f"{r.kind}/{r.name} ({r.source}): {p.sentence()}"
        for r in validate_objects(objects, store, NAMESPACE)
        if r.status != STATUS_OK
        for p in r.problems
    ]


def test_presets_examples_and_scenarios_exist_when_collected() -> None:
    # The parametrized tests below would pass vacuously on an empty chart.
    assert {"values-dev.yaml", "values-staging.yaml", "values-prod.yaml"} <= set(VALUE_FILES)
    assert any(f.startswith("examples/") for f in VALUE_FILES)
    assert any(f.startswith("ci/") for f in VALUE_FILES)


@pytest.mark.parametrize("api_versions", [["monitoring.coreos.com/v1"], []], ids=["with-monitoring", "plain"])
def test_every_object_validates_when_rendered_with_defaults(
    store: SchemaStore, api_versions: list[str]
) -> None:
    assert render_and_validate(store, [], api_versions) == []


@pytest.mark.parametrize("values_file", VALUE_FILES)
def test_every_object_validates_when_rendered_with_values_file(store: SchemaStore, values_file: str) -> None:
    assert render_and_validate(store, [CHART / values_file], ["monitoring.coreos.com/v1"]) == []


@pytest.mark.parametrize("values_file", VALUE_FILES)
def test_values_file_passes_validate_when_shipped_with_the_chart(values_file: str) -> None:
    report = validate_values([CHART / values_file], CHART)
    assert [p.text() for p in report.errors] == []
