"""Why the e2e tier cannot run on this machine, in words a person can act on."""

from __future__ import annotations

import os
import shutil
import subprocess

E2E_ENV = "LLMAZ_SERVERLESS_E2E"


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


def missing_prerequisites(environ: dict[str, str] | None = None) -> str | None:
    """None when the e2e tier can run; otherwise the reason it is skipped."""
    env = os.environ if environ is None else environ
    if env.get(E2E_ENV) != "1":
        return f"the e2e tier runs only under `make e2e` ({E2E_ENV}=1): it creates a kind cluster"
    if shutil.which("kind") is None:
        return "kind is not on PATH: install kind (https://kind.sigs.k8s.io) to run `make e2e`"
    return docker_engine_problem()
