"""What `make e2e` installs, in order, as plain commands.

Kept as data so the unit tests can check, on machines without Docker, that
every file a step names exists, that the pinned versions match UPSTREAM.md,
and that each values file renders; and so a person can read the plan with
`llmaz-serverless e2e plan` before running it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llmaz_serverless.toolpaths import repo_root

# Versions pinned for the e2e cluster (UPSTREAM.md "Versions to pin").
KEDA_CHART = "2.20.2"
HTTP_ADDON_CHART = "0.15.0"
LLMAZ_CHART = "0.0.10"
KEDA_REPO = "https://kedacore.github.io/charts"
LLMAZ_REPO = "https://inftyai.github.io/llmaz"
IMAGE = "llmaz-serverless:e2e"
CLUSTER_NAME = "llmaz-serverless-e2e"
NAMESPACE = "llmaz-serverless"
RELEASE = "e2e"
PROFILES = ("emulator", "llamacpp")
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


def stack_install(helm: str, stack: Path, values: Path, *sets: str) -> list[str]:
    argv = [helm, "upgrade", "--install", RELEASE, str(stack), "-n", NAMESPACE, "--create-namespace",
            "-f", str(values), "--wait", "--timeout", HELM_TIMEOUT]  # fmt: skip
    for item in sets:
        argv += ["--set", item]
    return argv


def install_plan(
    profile: str, helm: str = "helm", kubectl: str = "kubectl", kind: str = "kind"
) -> list[Step]:
    if profile not in PROFILES:
        raise ValueError(f"unknown e2e profile {profile!r}; choose one of {', '.join(PROFILES)}")
    root = repo_root()
    stack = root / "charts" / "llmaz-serverless-stack"
    prometheus = root / "manifests" / "e2e" / "prometheus.yaml"
    emulator_runtime = root / "manifests" / "e2e" / "backendruntime-emulator.yaml"
    redis = root / "manifests" / "e2e" / "redis.yaml"
    receiver = root / "manifests" / "e2e" / "webhook-receiver.yaml"
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
            "install the webhook secret and a signature-checking receiver",
            [kubectl, "apply", "--server-side", "-f", str(receiver)],
            [receiver],
        ),
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
        steps.append(
            Step(
                "register the emulator as an llmaz BackendRuntime",
                [kubectl, "apply", "--server-side", "-f", str(emulator_runtime)],
                [emulator_runtime],
            )
        )
    steps.append(
        Step(
            "install llmaz-serverless with the e2e values",
            stack_install(helm, stack, values),
            [values],
        ),
    )
    return steps
