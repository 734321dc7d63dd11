"""What `make e2e` installs, in order, as plain commands.

Kept as data so the unit tests can check, on machines without Docker, that
every file a step names exists, that the stack chart it installs pins the versions of versions.toml,
and that each values file renders; and so a person can read the plan with
`llmaz-serverless e2e plan` before running it.

Two providers: `kind` (Docker; the stack chart with its pinned dependencies)
and `local` (the offline node of `make cluster`: KEDA, the HTTP add-on, lws
and llmaz from their Go module sources through scripts/cluster/upstream.py,
then our chart on its own; images are imported beforehand).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from llmaz_serverless.toolpaths import repo_root

IMAGE = "llmaz-serverless:e2e"
CLUSTER_NAME = "llmaz-serverless-e2e"
NAMESPACE = "llmaz-serverless"
RELEASE = "e2e"
PROFILES = ("emulator", "llamacpp")
PROVIDERS = ("kind", "local")
LOCAL_TEST_IMAGE = "localhost/llmaz-serverless/test-client:debian12"
# Cold starts of the llama.cpp profile include pulling the image and the GGUF.
HELM_TIMEOUT = "15m"


@dataclass(frozen=True)
class Step:
    name: str
    argv: list[str]
    # Files the step reads; checked to exist by the unit tests.
    files: list[Path] = field(default_factory=list)
    # Only an optional step may fail without failing the run.
    optional: bool = False


def values_file(profile: str) -> Path:
    return repo_root() / "manifests" / "e2e" / f"values-{profile}.yaml"


def apply_step(kubectl: str, name: str, manifest: str) -> Step:
    """`kubectl apply --server-side` of one file of manifests/e2e/ (both providers)."""
    path = repo_root() / "manifests" / "e2e" / manifest
    return Step(name, [kubectl, "apply", "--server-side", "-f", str(path)], [path])


def receiver_step(kubectl: str) -> Step:
    return apply_step(
        kubectl, "install the webhook secret and a signature-checking receiver", "webhook-receiver.yaml"
    )


def emulator_runtime_step(kubectl: str) -> Step:
    return apply_step(
        kubectl, "register the emulator as an llmaz BackendRuntime", "backendruntime-emulator.yaml"
    )


def stack_install(helm: str, stack: Path, values: Path, *sets: str) -> list[str]:
    argv = [helm, "upgrade", "--install", RELEASE, str(stack), "-n", NAMESPACE, "--create-namespace",
            "-f", str(values), "--wait", "--timeout", HELM_TIMEOUT]  # fmt: skip
    for item in sets:
        argv += ["--set", item]
    return argv


def install_plan(
    profile: str,
    helm: str = "helm",
    kubectl: str = "kubectl",
    kind: str = "kind",
    provider: str = "kind",
    workdir: Path | None = None,
) -> list[Step]:
    if profile not in PROFILES:
        raise ValueError(f"unknown e2e profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if provider not in PROVIDERS:
        raise ValueError(f"unknown e2e provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
    if provider == "local":
        return local_plan(profile, helm, kubectl, workdir)
    root = repo_root()
    stack = root / "charts" / "llmaz-serverless-stack"
    prometheus = root / "manifests" / "e2e" / "prometheus.yaml"
    redis = root / "manifests" / "e2e" / "redis.yaml"
    nats = root / "manifests" / "e2e" / "nats.yaml"
    values = values_file(profile)
    steps = [
        Step("build the project image", ["docker", "build", "-t", IMAGE, str(root)], [root / "Dockerfile"]),
        Step("load the image into kind", [kind, "load", "docker-image", IMAGE, "--name", CLUSTER_NAME]),
        Step(
            "fetch the stack chart's pinned dependencies",
            [helm, "dependency", "build", str(stack)],
            [stack / "Chart.yaml"],
        ),
        Step(
            "install Prometheus (scrapes model, gateway and interceptor pods)",
            [kubectl, "apply", "--server-side", "-f", str(prometheus)],
            [prometheus],
        ),
        Step("create the namespace", [kubectl, "create", "namespace", NAMESPACE], optional=True),
        Step(
            "install Redis 7 (cache, async streams, pre-warm state)",
            [kubectl, "apply", "--server-side", "-f", str(redis)],
            [redis],
        ),
        Step(
            "install NATS with JetStream (the second broker, test_07)",
            [kubectl, "apply", "--server-side", "-f", str(nats)],
            [nats],
        ),
        receiver_step(kubectl),
        # Kinds must be served before objects of those kinds are installed: KEDA's
        # CRDs are templates of its chart, and the HTTP add-on's chart ships a
        # ScaledObject for its interceptor, so KEDA (with llmaz, whose CRDs sit in
        # crds/) goes in first, then the add-on, then our objects.
        Step(
            "install KEDA and llmaz (stack chart; add-on and models off)",
            stack_install(
                helm, stack, values, "keda-add-ons-http.enabled=false,llmaz-serverless.enabled=false"
            ),
            [values],
        ),
        Step(
            "install the HTTP add-on (stack chart, models off)",
            stack_install(helm, stack, values, "llmaz-serverless.enabled=false"),
            [values],
        ),
    ]
    if profile == "emulator":
        steps.append(emulator_runtime_step(kubectl))
    steps.append(
        Step(
            "install llmaz-serverless with the e2e values",
            stack_install(helm, stack, values),
            [values],
        ),
    )
    return steps


def upstream_module() -> ModuleType:
    """scripts/cluster/upstream.py of the checkout (not part of the installed package)."""
    name = "llmaz_serverless_cluster_upstream"
    if name not in sys.modules:
        path = repo_root() / "scripts" / "cluster" / "upstream.py"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules[name]


def local_values(profile: str) -> dict[str, Any]:
    """Our chart's values on the local cluster: the profile's `llmaz-serverless:` part, pointed
    at the HTTP add-on as its config/ installs it (namespace keda), with imported images only."""
    data = yaml.safe_load(values_file(profile).read_text()) or {}
    values: dict[str, Any] = dict(data.get("llmaz-serverless") or {})
    values["httpAddon"] = {**(values.get("httpAddon") or {}), **upstream_module().HTTP_ADDON_VALUES}
    values["image"] = {**(values.get("image") or {}), "pullPolicy": "Never"}
    # The llmaz built here (see versions.toml [cluster.llmaz]), whose Playground shape differs.
    values["llmaz"] = {"release": upstream_module().llmaz_release()}
    # No registry: the `helm test` pod runs Debian's sh and wget, built and imported by `make cluster`.
    values["tests"] = {**(values.get("tests") or {}), "image": LOCAL_TEST_IMAGE}
    return values


def local_plan(profile: str, helm: str, kubectl: str, workdir: Path | None = None) -> list[Step]:
    """The plan on the local node: no image build or load (images are imported by
    `make cluster`), the upstream components from their module sources, then our chart
    directly (the stack chart's dependencies cannot be fetched offline). Writes the
    values file into workdir (a cache directory, never the repository)."""
    upstream = upstream_module()
    work = workdir or upstream.default_workdir()
    root = repo_root()
    chart = root / "charts" / "llmaz-serverless"
    values = work / f"values-{profile}.yaml"
    values.parent.mkdir(parents=True, exist_ok=True)
    values.write_text(yaml.safe_dump(local_values(profile), sort_keys=False))
    steps = [Step(s.name, s.argv, s.files, s.optional) for s in upstream.install_steps(kubectl, helm, work)]
    steps.append(receiver_step(kubectl))
    if profile == "emulator":
        steps.append(emulator_runtime_step(kubectl))
    argv = [helm, "upgrade", "--install", RELEASE, str(chart), "-n", NAMESPACE, "--create-namespace",
            "-f", str(values), "--wait", "--timeout", HELM_TIMEOUT]  # fmt: skip
    steps.append(Step("install llmaz-serverless with the e2e values", argv, [chart / "Chart.yaml", values]))
    return steps
