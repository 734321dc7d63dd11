"""The e2e tier: a real cluster with the whole stack, set up once per run.

Runs only under `make e2e` (LLMAZ_SERVERLESS_E2E=1), on kind (CLUSTER=kind, Docker)
or on the local node of `make cluster` (CLUSTER=local). Outside `make e2e` every
test is skipped with the reason; under it a missing prerequisite stops the run
with an error. KEEP=1 keeps the kind cluster for the next run; logs and events
land in e2e-artifacts/.
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

from llmaz_serverless.toolpaths import find_tool, repo_root
from llmaz_serverless_testing.e2e.cluster import Cluster, local_kubeconfig, open_cluster
from llmaz_serverless_testing.e2e.names import InstallNames, install_names
from llmaz_serverless_testing.e2e.plan import NAMESPACE, install_plan
from llmaz_serverless_testing.e2e.prereqs import missing_prerequisites, opted_in, provider
from llmaz_serverless_testing.e2e.wait import wait_until

PROVIDER = provider()
SKIP_REASON = missing_prerequisites(kubeconfig=local_kubeconfig() if PROVIDER == "local" else None)
PROFILE = os.environ.get("E2E_PROFILE", "emulator")
KEEP = os.environ.get("KEEP", "0") == "1"
ARTIFACTS = repo_root() / "e2e-artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip outside `make e2e`; under it, stop the run: a missing prerequisite is a failure."""
    if not SKIP_REASON:
        return
    if opted_in():
        raise pytest.UsageError(f"make e2e CLUSTER={PROVIDER}: cannot run: {SKIP_REASON}")
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
    handle = open_cluster(PROVIDER, keep=KEEP)
    kube = Cluster(
        kubeconfig=handle.kubeconfig, kubectl=str(find_tool("kubectl")), helm=str(find_tool("helm"))
    )
    try:
        for step in install_plan(PROFILE, helm=kube.helm, kubectl=kube.kubectl, provider=PROVIDER):
            kube.run_step(step)
        yield kube
    finally:
        kube.collect_artifacts(ARTIFACTS / f"{PROVIDER}-{PROFILE}", node_logs=handle.node_logs)
        handle.release()


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
