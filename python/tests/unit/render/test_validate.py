"""validate_objects: one verdict per rendered object."""

from __future__ import annotations

from pathlib import Path

from llmaz_serverless.render.documents import split_manifest
from llmaz_serverless.render.schemas import SchemaStore
from llmaz_serverless.render.validate import STATUS_INVALID, STATUS_OK, STATUS_UNKNOWN, validate_objects

MANIFESTS = Path(__file__).parent / "manifests"


def test_every_sample_object_is_ok_when_valid(store: SchemaStore) -> None:
    objects = split_manifest((MANIFESTS / "good-crds.yaml").read_text(encoding="utf-8"))
    reports = validate_objects(objects, store, "models")
    assert [(r.kind, r.status) for r in reports] == [(o.kind, STATUS_OK) for o in objects]
    assert reports[0].schema == "crd keda.sh_v1alpha1_ScaledObject.json"
    assert reports[0].source == "sample/scaledobject.yaml"


def test_reports_list_every_problem_when_objects_are_wrong(store: SchemaStore) -> None:
    manifest = """\
---
# Source: c/templates/d.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replicas: "2"
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c, image: x, imagePullPolicy: Sometimes, resourcez: {}}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
- just
- a list
"""
    reports = validate_objects(split_manifest(manifest), store, "ns")
    assert [r.status for r in reports] == [STATUS_INVALID, STATUS_UNKNOWN, STATUS_INVALID]
    deployment = [p.sentence() for p in reports[0].problems]
    assert 'spec.replicas: must be an integer, not string (got "2"); fix: drop the quotes: 2' in deployment
    assert any(s.startswith("spec.template.spec.containers[0].resourcez: unknown key") for s in deployment)
    assert reports[0].schema == "kubernetes 1.35"
    assert reports[2].problems[0].sentence().startswith("(root): is not a mapping")
    as_dict = reports[1].as_dict()
    assert as_dict["status"] == "unknown-kind" and as_dict["kind"] == "Widget"
