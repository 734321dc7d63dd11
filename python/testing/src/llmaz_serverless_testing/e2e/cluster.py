"""The cluster of `make e2e` (kind through pytest-kubernetes, or the local node) and what the tests read."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from llmaz_serverless.toolpaths import repo_root
from llmaz_serverless_testing.e2e.plan import CLUSTER_NAME, NAMESPACE, Step

WARMED_CONDITION = "serving.llmaz-serverless.io/warmed"


def local_layout() -> Any:
    """Where `make cluster` keeps the node (scripts/cluster/layout.py decides)."""
    sys.path.insert(0, str(repo_root() / "scripts" / "cluster"))
    from layout import default_layout  # type: ignore[import-not-found]

    return default_layout()


def local_kubeconfig() -> Path:
    """The admin kubeconfig of `make cluster`."""
    return Path(local_layout().kubeconfig)


@dataclass
class ClusterHandle:
    """A cluster the e2e session runs against, and how to let go of it."""

    provider: str
    kubeconfig: Path
    release: Callable[[], None]
    # The node's own component logs (local provider), collected into the artifacts.
    node_logs: Path | None = None


def open_cluster(provider: str, keep: bool) -> ClusterHandle:
    """The e2e cluster: kind (created, or reused with KEEP=1) or the local node of `make cluster`."""
    if provider == "local":
        # The node belongs to `make cluster` / `make cluster-down`; the e2e run only uses it,
        # and every install step is idempotent, so a second run reuses it as it is.
        lay = local_layout()
        return ClusterHandle("local", Path(lay.kubeconfig), lambda: None, node_logs=Path(lay.logs))
    return open_kind_cluster(keep)


def open_kind_cluster(keep: bool) -> ClusterHandle:
    from pytest_kubernetes.options import ClusterOptions
    from pytest_kubernetes.providers import select_provider_manager

    manager_class = select_provider_manager("kind")
    config = repo_root() / "manifests" / "kind" / "cluster.yaml"
    # A fixed kubeconfig path, so KEEP=1 finds the cluster it kept: pytest-kubernetes
    # reuses a cluster that answers through the kubeconfig it is given.
    kubeconfig = repo_root() / ".cache" / "e2e" / f"{CLUSTER_NAME}.kubeconfig"
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    kind = shutil.which("kind") or "kind"
    existing = subprocess.run(
        [kind, "get", "clusters"], capture_output=True, text=True, check=False
    ).stdout.split()
    if CLUSTER_NAME in existing:
        subprocess.run(
            [kind, "export", "kubeconfig", "--name", CLUSTER_NAME, "--kubeconfig", str(kubeconfig)],
            check=True,
        )
    manager = manager_class(CLUSTER_NAME, str(config))
    manager.create(ClusterOptions(cluster_timeout=600, kubeconfig_path=kubeconfig), timeout=300)

    def release() -> None:
        if not keep:
            manager.delete()

    return ClusterHandle("kind", kubeconfig, release)


@dataclass
class Cluster:
    """kubectl and helm against one kubeconfig, with JSON readers for the e2e assertions."""

    kubeconfig: Path
    kubectl: str = "kubectl"
    helm: str = "helm"
    namespace: str = NAMESPACE

    def env(self) -> dict[str, str]:
        import os

        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def run(self, argv: list[str], timeout: float = 1200, check: bool = True) -> str:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=self.env(), check=False
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def call(self, argv: list[str], timeout: float = 1200) -> subprocess.CompletedProcess[str]:
        """Run a command and return it whole, for tests that judge its exit code."""
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=self.env(), check=False
        )

    def run_step(self, step: Step) -> None:
        sys.stderr.write(f"e2e: {step.name}\n")
        try:
            self.run(step.argv)
        except RuntimeError:
            if not step.optional:
                raise

    def get(
        self, kind: str, name: str | None = None, namespace: str | None = None, selector: str | None = None
    ) -> dict[str, Any]:
        argv = [self.kubectl, "get", kind, "-o", "json", "-n", namespace or self.namespace]
        if name:
            argv.insert(3, name)
        if selector:
            argv += ["-l", selector]
        return json.loads(self.run(argv, timeout=60))

    def playground_replicas(self, playground: str) -> int:
        obj = self.get("playgrounds.inference.llmaz.io", playground)
        return int(obj.get("spec", {}).get("replicas", 0))

    def ready_model_pods(self, model_label: str) -> list[dict[str, Any]]:
        pods = self.get("pods", selector=f"llmaz.io/model-name={model_label}")["items"]
        return [p for p in pods if (ready := condition(p, "Ready")) is not None and ready["status"] == "True"]

    def collect_artifacts(self, out: Path, node_logs: Path | None = None) -> None:
        """Logs, events and object dumps of every namespace involved, for debugging a failed run.

        `node_logs`: a directory of the node's own component logs (the local cluster's
        etcd, apiserver, kubelet, containerd, ...), copied beside the pods' logs.
        """
        out.mkdir(parents=True, exist_ok=True)
        namespaces = (self.namespace, "keda", "llmaz-system", "lws-system", "monitoring")
        for kinds in (
            "pods,svc,deploy",
            "playgrounds,openmodels,scaledobjects,interceptorroutes,hpa",
            "events",
        ):
            for ns in namespaces:
                text = self.run([self.kubectl, "get", kinds, "-n", ns, "-o", "wide"], check=False)
                (out / f"{ns}-{kinds.replace(',', '_')}.txt").write_text(text)
        for ns in namespaces:
            for pod in self.get("pods", namespace=ns).get("items", []):
                name = pod["metadata"]["name"]
                logs = self.run(
                    [self.kubectl, "logs", name, "-n", ns, "--all-containers", "--prefix"], check=False
                )
                (out / f"log-{ns}-{name}.txt").write_text(logs)
        if node_logs is not None and node_logs.is_dir():
            for log in node_logs.glob("*.log"):
                shutil.copyfile(log, out / f"node-{log.name}")


def hpa_metric_readings(cluster: Cluster, scaled_object: str) -> dict[int, float]:
    """Trigger index -> the current value of its metric in the HPA KEDA made for a ScaledObject.

    KEDA names each external metric `s<trigger index>-<scaler metric>`; its value is the
    per-replica average the HPA compares against the trigger's target.
    """
    hpa = cluster.get("hpa", f"keda-hpa-{scaled_object}")
    readings: dict[int, float] = {}
    for metric in hpa.get("status", {}).get("currentMetrics") or []:
        external = metric.get("external") or {}
        name = external.get("metric", {}).get("name", "")
        index, _, _ = name.partition("-")
        current = external.get("current", {})
        value = current.get("averageValue") or current.get("value")
        if index.startswith("s") and index[1:].isdigit() and value is not None:
            readings[int(index[1:])] = quantity(value)
    return readings


def hpa_rescale_reasons(cluster: Cluster, scaled_object: str) -> list[str]:
    """The messages of the SuccessfulRescale Events of KEDA's HPA for a ScaledObject.

    The HPA writes why it rescaled, e.g. "New size: 3; reason: external metric
    s1-prometheus(...) above target": which trigger drove a scale-up, from the controller itself.
    """
    events = cluster.get("events")["items"]
    return [
        e.get("message", "")
        for e in events
        if e["involvedObject"].get("name") == f"keda-hpa-{scaled_object}"
        and e.get("reason") == "SuccessfulRescale"
    ]


def quantity(text: str) -> float:
    """A Kubernetes quantity as the HPA reports metrics ("1500m", "3", "2k")."""
    factors = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}
    if text and text[-1] in factors:
        return float(text[:-1]) * factors[text[-1]]
    return float(text)


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in obj.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return cond
    return None


def condition_time(obj: dict[str, Any], kind: str) -> datetime | None:
    cond = condition(obj, kind)
    if not cond or cond.get("status") != "True" or not cond.get("lastTransitionTime"):
        return None
    return datetime.fromisoformat(cond["lastTransitionTime"].replace("Z", "+00:00"))
