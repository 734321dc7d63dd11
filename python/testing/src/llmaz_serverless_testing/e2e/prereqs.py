"""What the e2e tier needs on this machine, in words a person can act on.

Outside `make e2e` the tier is skipped (the fast tiers run everywhere). Under
`make e2e` a missing prerequisite is an error that stops the run: a skipped e2e
run must never look like a passed one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

E2E_ENV = "LLMAZ_SERVERLESS_E2E"
CLUSTER_ENV = "E2E_CLUSTER"
PROVIDERS = ("kind", "local")


def docker_engine_problem() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not installed (kind runs its nodes as Docker containers)"
    try:
        probe = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"`docker info` failed: {err}"
    if probe.returncode != 0 or not probe.stdout.strip():
        detail = (probe.stderr.strip().splitlines() or ["no server version"])[-1]
        return f"no Docker engine answers `docker info` ({detail})"
    return None


def kind_problem() -> str | None:
    if shutil.which("kind") is None:
        return "kind is not on PATH: install kind (https://kind.sigs.k8s.io) to run `make e2e`"
    return docker_engine_problem()


def local_cluster_problem(kubeconfig: Path, kubectl: str | None = None) -> str | None:
    """None when the node of `make cluster` answers through its kubeconfig."""
    fix = "start it with `make cluster` (or run `make e2e CLUSTER=kind` on a machine with Docker)"
    if not kubeconfig.is_file():
        return f"the local cluster is not running ({kubeconfig} does not exist): {fix}"
    kubectl = kubectl or shutil.which("kubectl")
    if kubectl is None:
        return "kubectl is not on PATH: run `make tools`"
    probe = subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), "get", "--raw", "/readyz", "--request-timeout", "10s"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0 or probe.stdout.strip() != "ok":
        detail = (probe.stderr.strip().splitlines() or [probe.stdout.strip() or "no answer"])[-1]
        return f"the local cluster's API server does not answer /readyz ({detail}): {fix}"
    return None


def opted_in(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(E2E_ENV) == "1"


def provider(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    name = env.get(CLUSTER_ENV, "kind") or "kind"
    if name not in PROVIDERS:
        raise ValueError(
            f"{CLUSTER_ENV}={name!r} is not a cluster provider; choose one of {', '.join(PROVIDERS)}"
        )
    return name


def missing_prerequisites(
    environ: dict[str, str] | None = None, kubeconfig: Path | None = None
) -> str | None:
    """None when the e2e tier can run; otherwise why not (a skip outside `make e2e`, an error inside)."""
    if not opted_in(environ):
        return f"the e2e tier runs only under `make e2e` ({E2E_ENV}=1): it needs a cluster"
    try:
        name = provider(environ)
    except ValueError as err:
        return str(err)
    if name == "local":
        if kubeconfig is None:
            return "no kubeconfig path given for the local cluster"
        return local_cluster_problem(kubeconfig)
    return kind_problem()
