"""The kind cluster of `make e2e`, through pytest-kubernetes, and what the tests read from it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from llmaz_serverless.e2e.plan import CLUSTER_NAME, NAMESPACE, Step
from llmaz_serverless.toolpaths import repo_root

WARMED_CONDITION = "serving.llmaz-serverless.io/warmed"


def create_kind_cluster(keep: bool) -> Any:
    """Create (or reuse, with KEEP=1) the kind cluster; returns the pytest-kubernetes manager."""
    from pytest_kubernetes.options import ClusterOptions
    from pytest_kubernetes.providers import select_provider_manager

    manager_class = select_provider_manager("kind")
    config = repo_root() / "manifests" / "kind" / "cluster.yaml"
    manager = manager_class(CLUSTER_NAME, str(config))
    manager.create(ClusterOptions(cluster_timeout=600), timeout=300)
    return manager


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
        return [
            p for p in pods if condition(p, "Ready") is not None and condition(p, "Ready")["status"] == "True"
        ]

    def collect_artifacts(self, out: Path) -> None:
        """Logs, events and object dumps for debugging a failed run."""
        out.mkdir(parents=True, exist_ok=True)
        for kinds in ("pods,svc,deploy", "playgrounds,openmodels,scaledobjects,interceptorroutes", "events"):
            for ns in (self.namespace, "keda", "llmaz-system", "monitoring"):
                text = self.run([self.kubectl, "get", kinds, "-n", ns, "-o", "wide"], check=False)
                (out / f"{ns}-{kinds.replace(',', '_')}.txt").write_text(text)
        pods = self.get("pods").get("items", [])
        for pod in pods:
            name = pod["metadata"]["name"]
            logs = self.run(
                [self.kubectl, "logs", name, "-n", self.namespace, "--all-containers", "--prefix"],
                check=False,
            )
            (out / f"log-{name}.txt").write_text(logs)


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
