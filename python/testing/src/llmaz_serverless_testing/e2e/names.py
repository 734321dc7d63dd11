"""Names of what the e2e install creates, read from a real render of its values.

The e2e tests never spell chart naming rules themselves: they render the
llmaz-serverless chart with the `llmaz-serverless:` part of the profile's
values (as the stack chart passes it down) and read the objects' names.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmaz_serverless.render.documents import RenderedObject, split_manifest
from llmaz_serverless.render.helm import TemplateRequest, helm_template
from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless_testing.e2e.plan import NAMESPACE, RELEASE, values_file


@dataclass(frozen=True)
class ModelNames:
    served_name: str
    playground: str
    open_model: str
    route: str
    scaled_object: str
    triggers: tuple[str, ...]


@dataclass(frozen=True)
class InstallNames:
    gateway_service: str
    gateway_port: int
    worker_deployment: str | None
    worker_scaled_object: str | None
    models: tuple[ModelNames, ...]
    objects: tuple[RenderedObject, ...]

    def model(self, served_name: str) -> ModelNames:
        return next(m for m in self.models if m.served_name == served_name)


def subchart_values(profile: str) -> dict[str, Any]:
    data = yaml.safe_load(values_file(profile).read_text()) or {}
    return dict(data.get("llmaz-serverless") or {})


def render_profile(profile: str) -> list[RenderedObject]:
    with tempfile.TemporaryDirectory() as tmp:
        values = Path(tmp) / "values.yaml"
        values.write_text(yaml.safe_dump(subchart_values(profile)))
        text = helm_template(
            TemplateRequest(chart=chart_dir(), values_files=[values], release=RELEASE, namespace=NAMESPACE)
        )
    return split_manifest(text)


def install_names(profile: str) -> InstallNames:
    objects = render_profile(profile)

    def of(kind: str) -> list[RenderedObject]:
        return [o for o in objects if o.kind == kind]

    runtime = next(o for o in of("ConfigMap") if "runtime.yaml" in (o.body.get("data") or {}))
    runtime_models = yaml.safe_load(runtime.body["data"]["runtime.yaml"]).get("models", [])
    scaled = {
        so.body["spec"]["scaleTargetRef"]["name"]: so
        for so in of("ScaledObject")
        if so.body["spec"]["scaleTargetRef"].get("kind") == "Playground"
    }
    models = []
    for entry in runtime_models:
        playground = entry["playground"]
        so = scaled[playground]
        route = next(
            (
                t["metadata"]["interceptorRoute"]
                for t in so.body["spec"]["triggers"]
                if t["type"] == "external-push"
            ),
            "",
        )
        open_model = next(
            p.body["spec"]["modelClaim"]["modelName"] for p in of("Playground") if p.name == playground
        )
        models.append(
            ModelNames(
                entry["name"],
                playground,
                open_model,
                route,
                so.name,
                tuple(t["type"] for t in so.body["spec"]["triggers"]),
            )
        )
    gateway = next(
        s
        for s in of("Service")
        if s.body["metadata"]["labels"].get("app.kubernetes.io/component") == "gateway"
    )
    worker = next(
        (
            d
            for d in of("Deployment")
            if d.body["metadata"]["labels"].get("app.kubernetes.io/component") == "worker"
        ),
        None,
    )
    worker_so = next(
        (
            so
            for so in of("ScaledObject")
            if worker is not None and so.body["spec"]["scaleTargetRef"]["name"] == worker.name
        ),
        None,
    )
    return InstallNames(
        gateway_service=gateway.name,
        gateway_port=int(gateway.body["spec"]["ports"][0]["port"]),
        worker_deployment=worker.name if worker else None,
        worker_scaled_object=worker_so.name if worker_so else None,
        models=tuple(models),
        objects=tuple(objects),
    )
