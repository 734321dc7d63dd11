"""Where the JSON schema of a rendered object comes from.

Core kinds: the strict OpenAPI schemas that the `kubernetes-validate` package
ships for each Kubernetes minor (offline; unknown fields are errors).
Custom resources (KEDA, HTTP add-on, llmaz, Prometheus-operator): the
hand-written schemas in `render/crds/`, one file per kind, named
`<group>_<version>_<Kind>.json`. Both kinds of schema resolve their
embedded core types (ObjectMeta, EnvVar, Probe, PodTemplateSpec...) against
the same `_definitions.json`, so a CRD field of a core type is as strict as
the core object itself.

Validators are compiled once per (apiVersion, kind) and cached: the
definitions file is 1.5 MB and rendering a chart hits the same kinds often.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema

K8S_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
# Matches kubectl 1.35.2 from `make tools`: validate against the API we install with.
DEFAULT_KUBE_VERSION = "1.35"

_CRD_PACKAGE = "llmaz_serverless.render"
_CRD_DIR = "crds"


class SchemaNotFoundError(LookupError):
    """No schema is known for an (apiVersion, kind) pair."""


class UnsupportedKubeVersionError(ValueError):
    """kubernetes-validate ships no schemas at or below the requested version."""


@dataclass(frozen=True)
class SchemaSource:
    """Which schema judged an object: shown in reports so a failure is traceable."""

    origin: str  # "kubernetes" or "crd"
    detail: str  # "1.35" or the CRD schema's file name


def _k8s_schema_root() -> Path:
    return Path(str(resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")))


def _minor_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def available_kube_versions() -> list[str]:
    """Kubernetes minors (e.g. "1.35") whose strict schemas are installed."""
    found = set()
    for entry in _k8s_schema_root().iterdir():
        match = re.fullmatch(r"v(\d+\.\d+)\.\d+-local-strict", entry.name)
        if match:
            found.add(match.group(1))
    return sorted(found, key=_minor_key)


def resolve_kube_version(requested: str) -> str:
    """Newest installed minor that is not newer than `requested` ("v1.35.2" -> "1.35")."""
    match = re.match(r"^v?(\d+)\.(\d+)", requested.strip())
    if not match:
        raise UnsupportedKubeVersionError(f"kube version {requested!r} is not of the form 1.35 or v1.35.2")
    wanted = (int(match.group(1)), int(match.group(2)))
    candidates = [v for v in available_kube_versions() if _minor_key(v) <= wanted]
    if not candidates:
        raise UnsupportedKubeVersionError(
            f"kubernetes-validate has no schemas for Kubernetes {requested} or older; "
            f"installed: {', '.join(available_kube_versions())}"
        )
    return candidates[-1]


def _k8s_dir(minor: str) -> Path:
    return _k8s_schema_root() / f"v{minor}.0-local-strict"


@cache
def _load_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@cache
def crd_schema_files() -> dict[tuple[str, str], Path]:
    """(apiVersion, kind) -> schema file, read from the file names in render/crds/."""
    root = Path(str(resources.files(_CRD_PACKAGE).joinpath(_CRD_DIR)))
    table: dict[tuple[str, str], Path] = {}
    for path in sorted(root.glob("*.json")):
        group, version, kind = path.stem.split("_")
        table[(f"{group}/{version}", kind)] = path
    return table


def _k8s_file_name(api_version: str, kind: str) -> str:
    # kubernetes-validate's naming: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


class SchemaStore:
    """Compiled validators for every kind a chart may render, for one Kubernetes minor."""

    def __init__(self, kube_version: str = DEFAULT_KUBE_VERSION) -> None:
        self.kube_version = resolve_kube_version(kube_version)
        self._dir = _k8s_dir(self.kube_version)
        resources_: list[tuple[str, referencing.Resource[Any]]] = []
        definitions = _load_json(str(self._dir / "_definitions.json"))
        resources_.append(
            (K8S_DEFINITIONS_URI, referencing.jsonschema.DRAFT202012.create_resource(definitions))
        )
        for path in crd_schema_files().values():
            contents = _load_json(str(path))
            resources_.append((contents["$id"], referencing.jsonschema.DRAFT202012.create_resource(contents)))
        self._registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources_)
        self._cache: dict[tuple[str, str], tuple[jsonschema.protocols.Validator, SchemaSource]] = {}

    def knows(self, api_version: str, kind: str) -> bool:
        try:
            self.validator(api_version, kind)
        except SchemaNotFoundError:
            return False
        return True

    def validator(self, api_version: str, kind: str) -> tuple[jsonschema.protocols.Validator, SchemaSource]:
        key = (api_version, kind)
        if key not in self._cache:
            self._cache[key] = self._build(api_version, kind)
        return self._cache[key]

    def _build(self, api_version: str, kind: str) -> tuple[jsonschema.protocols.Validator, SchemaSource]:
        crd = crd_schema_files().get((api_version, kind))
        if crd is not None:
            schema = _load_json(str(crd))
            source = SchemaSource("crd", crd.name)
        else:
            path = self._dir / _k8s_file_name(api_version, kind)
            if not path.exists():
                raise SchemaNotFoundError(
                    f"no schema for {kind} ({api_version}): not a Kubernetes {self.kube_version} kind and "
                    f"no file render/crds/{api_version.replace('/', '_')}_{kind}.json"
                )
            schema = _load_json(str(path))
            source = SchemaSource("kubernetes", self.kube_version)
        validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
        return validator, source
