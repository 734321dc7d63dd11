"""Validate rendered objects: schema (core or CRD) plus the object rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import relevance

from llmaz_serverless.render import objectrules
from llmaz_serverless.render.documents import RenderedObject
from llmaz_serverless.render.helm import DEFAULT_NAMESPACE
from llmaz_serverless.render.schemas import SchemaNotFoundError, SchemaStore
from llmaz_serverless.values.messages import Explanation, explain

STATUS_OK = "ok"
STATUS_INVALID = "invalid"
STATUS_UNKNOWN = "unknown-kind"


@dataclass
class ObjectReport:
    """The verdict on one rendered object."""

    kind: str
    api_version: str
    name: str
    namespace: str
    source: str
    schema: str  # "kubernetes 1.35", "crd keda.sh_v1alpha1_ScaledObject.json" or ""
    problems: list[Explanation] = field(default_factory=list)
    unknown: bool = False

    @property
    def status(self) -> str:
        if self.unknown:
            return STATUS_UNKNOWN
        return STATUS_INVALID if self.problems else STATUS_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "apiVersion": self.api_version,
            "name": self.name,
            "namespace": self.namespace,
            "source": self.source,
            "schema": self.schema,
            "status": self.status,
            "problems": [p.sentence() for p in self.problems],
        }


def _schema_problems(store: SchemaStore, obj: RenderedObject) -> tuple[str, list[Explanation], bool]:
    if not isinstance(obj.body, dict):
        return (
            "",
            [Explanation((), "is not a mapping", type(obj.body).__name__, "render one object per document")],
            False,
        )
    if not obj.api_version or not obj.kind:
        missing = [k for k in ("apiVersion", "kind") if not obj.body.get(k)]
        return "", [Explanation((k,), "is required but missing", None, None) for k in missing], False
    try:
        validator, source = store.validator(obj.api_version, obj.kind)
    except SchemaNotFoundError as err:
        return (
            "",
            [Explanation(("kind",), str(err), None, "add a schema to render/crds or fix apiVersion/kind")],
            True,
        )
    problems: list[Explanation] = []
    # Deepest, most specific errors first, so a report reads top-down.
    for error in sorted(
        validator.iter_errors(obj.body), key=lambda e: (list(map(str, e.absolute_path)), relevance(e))
    ):
        problems.extend(explain(error))
    return f"{source.origin} {source.detail}", problems, False


def validate_objects(
    objects: list[RenderedObject], store: SchemaStore | None = None, namespace: str = DEFAULT_NAMESPACE
) -> list[ObjectReport]:
    """One report per object, in manifest order."""
    store = store or SchemaStore()
    reports: list[ObjectReport] = []
    for obj in objects:
        schema, problems, unknown = _schema_problems(store, obj)
        problems = _dedupe(problems + objectrules.check_each(obj))
        reports.append(
            ObjectReport(
                kind=obj.kind,
                api_version=obj.api_version,
                name=obj.name,
                namespace=obj.namespace,
                source=obj.source,
                schema=schema,
                problems=problems,
                unknown=unknown,
            )
        )
    for index, explanation in objectrules.check_across(objects, namespace):
        if explanation not in reports[index].problems:
            reports[index].problems.append(explanation)
    return reports


def _dedupe(items: list[Explanation]) -> list[Explanation]:
    seen: set[Explanation] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
