"""Replicas per model over time, sampled during a run into `replicas.csv`.

Sources, by where the run happens:

- `PrometheusSource`: a cluster with Prometheus (kube-state-metrics): one
  query per model for existing replicas, one for ready ones. A model at zero
  exports no series, so an empty answer means 0.
- `KubernetesSource`: the Playground's scale subresource
  (`inference.llmaz.io/v1alpha1`, `.spec.replicas` desired, `.status.replicas`),
  read with the kubeconfig in use.
- `StateUrlSource`: local runs; the emulator's own `GET /emulator/state`
  (`replicas`, `readyReplicas`), which knows its emulated scale to zero.

The sampler runs in a thread of the runner (not in locust), so load-generation
hiccups do not distort it, and it never stops a run: failed reads are counted
and the last error kept for the report.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import httpx

from llmaz_serverless.loadtest.records import REPLICA_COLUMNS, CsvAppender


@dataclass(frozen=True)
class Reading:
    model: str
    replicas: int
    ready: int | None = None
    desired: int | None = None


class ReplicaSource(Protocol):
    name: str

    def read(self) -> list[Reading]: ...

    def close(self) -> None: ...


class StateUrlSource:
    """GET a JSON state document with `replicas` and `readyReplicas` (the emulator's /emulator/state)."""

    name = "state"

    def __init__(self, url: str, model: str | None = None, timeout: float = 2.0) -> None:
        self.url = url
        self.model = model
        self._client = httpx.Client(timeout=timeout)

    def read(self) -> list[Reading]:
        resp = self._client.get(self.url)
        resp.raise_for_status()
        doc: dict[str, Any] = resp.json()
        return [
            Reading(
                model=self.model or str(doc.get("model", "")),
                replicas=int(doc["replicas"]),
                ready=int(doc["readyReplicas"]) if doc.get("readyReplicas") is not None else None,
                desired=int(doc["desiredReplicas"]) if doc.get("desiredReplicas") is not None else None,
            )
        ]

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class ModelRef:
    """A model as the cluster knows it: OpenAI id, llmaz Playground, namespace."""

    model: str
    playground: str
    namespace: str = "default"


# kube-state-metrics series for the StatefulSet LWS creates for a Playground
# (named like the Playground). `or vector(0)`: a model at zero may export nothing.
DEFAULT_REPLICAS_QUERY = (
    'sum(kube_statefulset_status_replicas{{namespace="{namespace}",statefulset="{playground}"}}) or vector(0)'
)
DEFAULT_READY_QUERY = (
    'sum(kube_statefulset_status_replicas_ready{{namespace="{namespace}",statefulset="{playground}"}})'
    " or vector(0)"
)


class PrometheusSource:
    """Instant queries against Prometheus' HTTP API; `{model}`, `{playground}`, `{namespace}` filled in."""

    name = "prometheus"

    def __init__(
        self,
        url: str,
        models: list[ModelRef],
        replicas_query: str = DEFAULT_REPLICAS_QUERY,
        ready_query: str | None = DEFAULT_READY_QUERY,
        timeout: float = 2.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.models = models
        self.replicas_query = replicas_query
        self.ready_query = ready_query
        self._client = httpx.Client(timeout=timeout)

    def _value(self, query: str) -> int:
        resp = self._client.get(f"{self.url}/api/v1/query", params={"query": query})
        resp.raise_for_status()
        data = resp.json()
        if data.get("status") != "success":
            raise RuntimeError(f"prometheus query {query!r} failed: {data.get('error', data)}")
        result = data["data"]["result"]
        if not result:
            return 0  # no series: the model exports nothing at zero
        return round(sum(float(series["value"][1]) for series in result))

    def read(self) -> list[Reading]:
        out = []
        for ref in self.models:
            fill = {"model": ref.model, "playground": ref.playground, "namespace": ref.namespace}
            replicas = self._value(self.replicas_query.format(**fill))
            ready = self._value(self.ready_query.format(**fill)) if self.ready_query else None
            out.append(Reading(ref.model, replicas, ready))
        return out

    def close(self) -> None:
        self._client.close()


class KubernetesSource:
    """The Playground scale subresource and its selector's Ready pods (kubeconfig or in-cluster config)."""

    name = "kubernetes"
    group, version, plural = "inference.llmaz.io", "v1alpha1", "playgrounds"

    def __init__(
        self, models: list[ModelRef], kubeconfig: str | None = None, context: str | None = None
    ) -> None:
        from kubernetes import client, config

        try:
            config.load_kube_config(config_file=kubeconfig, context=context)
        except config.ConfigException:
            config.load_incluster_config()
        self.models = models
        self._api = client.CustomObjectsApi()
        self._core = client.CoreV1Api()

    def read(self) -> list[Reading]:
        out = []
        for ref in self.models:
            # Declared `object`: for a custom resource the client returns the decoded JSON mapping.
            scale = cast(
                dict[str, Any],
                self._api.get_namespaced_custom_object_scale(
                    self.group, self.version, ref.namespace, self.plural, ref.playground, _request_timeout=2
                ),
            )
            spec = scale.get("spec") or {}
            status = scale.get("status") or {}
            selector = status.get("selector")
            out.append(
                Reading(
                    ref.model,
                    replicas=int(status.get("replicas") or 0),
                    desired=int(spec["replicas"]) if spec.get("replicas") is not None else None,
                    ready=self._ready_pods(ref.namespace, selector) if selector else None,
                )
            )
        return out

    def _ready_pods(self, namespace: str, selector: str) -> int:
        """Pods of the scale selector that are Ready and not being deleted.

        The Playground's status counts pods that exist, loading or not; a request
        only stops waiting once a pod passes its readiness probe (after warmup), so
        cold starts in the report are measured to this count.
        """
        pods = self._core.list_namespaced_pod(namespace, label_selector=selector, _request_timeout=2)
        ready = 0
        for pod in pods.items:
            if pod.metadata is None or pod.metadata.deletion_timestamp is not None:
                continue
            conditions = (pod.status.conditions if pod.status else None) or []
            ready += any(c.type == "Ready" and c.status == "True" for c in conditions)
        return ready

    def close(self) -> None:
        self._api.api_client.close()


class ReplicaSampler:
    """Reads `sources` every `interval` seconds in a thread; appends to `path` (replicas.csv)."""

    def __init__(self, sources: list[ReplicaSource], path: Path, interval: float = 1.0) -> None:
        self.sources = sources
        self.path = path
        self.interval = interval
        self.errors = 0
        self.last_error = ""
        self.samples = 0
        self.latest: dict[str, Reading] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="replica-sampler", daemon=True)
        self._out = CsvAppender(path, REPLICA_COLUMNS)

    def sample_once(self) -> None:
        for source in self.sources:
            try:
                readings = source.read()
            except Exception as exc:
                self.errors += 1
                self.last_error = f"{source.name}: {type(exc).__name__}: {exc}"[:300]
                continue
            now = time.time()
            for r in readings:
                self.latest[r.model] = r
                self.samples += 1
                self._out.append(
                    {
                        "time": now,
                        "model": r.model,
                        "replicas": r.replicas,
                        "ready": r.ready,
                        "desired": r.desired,
                        "source": source.name,
                    }
                )

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.sample_once()
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> ReplicaSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sample_once()  # a last point at the end of the run, for the cost integral
        self._out.close()
        for source in self.sources:
            source.close()
