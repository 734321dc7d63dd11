"""The e2e tier: a kind cluster with the whole stack, created once per run.

Runs only under `make e2e` (LLMAZ_SERVERLESS_E2E=1) on a machine with Docker
and kind; everywhere else each test is skipped with the reason. KEEP=1 keeps
the cluster for debugging; logs and events land in e2e-artifacts/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from llmaz_serverless.e2e.cluster import Cluster, create_kind_cluster
from llmaz_serverless.e2e.names import InstallNames, install_names
from llmaz_serverless.e2e.plan import NAMESPACE, install_plan
from llmaz_serverless.e2e.prereqs import missing_prerequisites
from llmaz_serverless.e2e.wait import wait_until
from llmaz_serverless.toolpaths import find_tool, repo_root

SKIP_REASON = missing_prerequisites()
PROFILE = os.environ.get("E2E_PROFILE", "emulator")
KEEP = os.environ.get("KEEP", "0") == "1"
ARTIFACTS = repo_root() / "e2e-artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip (before any cluster fixture is set up) with the reason the tier cannot run here."""
    if not SKIP_REASON:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@dataclass
class RequestLedger:
    """Every user request the e2e tests send, so the last test can assert none failed."""

    sent: int = 0
    failures: list[str] = field(default_factory=list)

    def record(self, what: str, status: int | None, error: str | None = None) -> None:
        self.sent += 1
        if error or status is None or status >= 400:
            self.failures.append(f"{what}: status={status} error={error}")


@pytest.fixture(scope="session")
def ledger() -> RequestLedger:
    return RequestLedger()


@pytest.fixture(scope="session")
def profile() -> str:
    return PROFILE


@pytest.fixture(scope="session")
def names() -> InstallNames:
    return install_names(PROFILE)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    manager = create_kind_cluster(keep=KEEP)
    kube = Cluster(
        kubeconfig=Path(manager.kubeconfig), kubectl=str(find_tool("kubectl")), helm=str(find_tool("helm"))
    )
    try:
        for step in install_plan(PROFILE, helm=kube.helm, kubectl=kube.kubectl):
            kube.run_step(step)
        yield kube
    finally:
        kube.collect_artifacts(ARTIFACTS / PROFILE)
        if not KEEP:
            manager.delete()


@pytest.fixture(scope="session")
def gateway_url(port_forward, names: InstallNames) -> str:
    import httpx

    url = port_forward(names.gateway_service, names.gateway_port)
    wait_until(
        lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200,
        what="the gateway through port-forward",
        timeout=120,
    )
    return url


@pytest.fixture(scope="session")
def port_forward(cluster: Cluster):
    """Open `kubectl port-forward` to a Service; returns the local base URL. Closed at session end."""
    opened: list[subprocess.Popen[bytes]] = []

    def forward(service: str, port: int) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            local = sock.getsockname()[1]
        opened.append(
            subprocess.Popen(
                [cluster.kubectl, "port-forward", "-n", NAMESPACE, f"svc/{service}", f"{local}:{port}"],
                env=cluster.env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(2)
        return f"http://127.0.0.1:{local}"

    yield forward
    for proc in opened:
        proc.terminate()
        proc.wait(timeout=10)
