"""Test helpers (like `kopf.testing`): API-shaped objects and a recording KubeApi.

No API server runs on a developer machine or in CI here, so the handlers are
tested by feeding them objects shaped exactly as the API returns them and by
recording what they would write. The shapes below follow what llmaz 0.1.x on
LWS 0.6 creates for a single-host Playground (leader StatefulSet pod
`<playground>-0`, container `model-runner` on 8080, the model-loader init
container), and what the kubelet reports while such a pod starts.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from llmaz_serverless.warmup.kube import KubeApiError, rfc3339
from llmaz_serverless.warmup.pods import (
    GATE_CONDITION,
    LWS_NAME_LABEL,
    LWS_WORKER_INDEX_LABEL,
    MODEL_NAME_LABEL,
    MODEL_RUNNER_CONTAINER,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)

# Stages of a pod's start, in order; each includes the ones before.
STAGES = ("created", "scheduled", "started", "healthy", "warmed")


@dataclass
class RecordingKubeApi:
    """Records the writes; `failures` are raised (in order) by the next pod-status patches."""

    patches: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: list[KubeApiError] = field(default_factory=list)

    async def patch_pod_status(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.patches.append((namespace, name, copy.deepcopy(patch)))

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        self.events.append((namespace, copy.deepcopy(event)))

    def reasons(self, kind: str | None = None) -> list[str]:
        return [e["reason"] for _, e in self.events if kind is None or e["involvedObject"]["kind"] == kind]


def _cond(type_: str, status: bool, at: dt.datetime, reason: str | None = None, message: str | None = None):
    cond: dict[str, Any] = {
        "type": type_,
        "status": "True" if status else "False",
        "lastProbeTime": None,
        "lastTransitionTime": rfc3339(at),
    }
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


# Long on purpose: one Pod object written out in full, as the API server returns it for an
# llmaz/LWS model pod at each stage of its start, so a test reads the whole fixture in one place.
def make_pod(
    stage: str = "healthy",
    *,
    playground: str = "llama",
    namespace: str = "models",
    model_name: str = "llama-3-8b",
    worker_index: str = "0",
    gated: bool = True,
    pod_ip: str = "10.244.1.7",
    uid: str = "5f0c1e3a-2b7d-4c1e-9a55-0d3c2f9e8b11",
    created: dt.datetime = T0,
    offsets: tuple[float, float, float, float] = (2, 9, 41, 43),
    restarts: int = 0,
) -> dict[str, Any]:
    """A leader pod of Playground `playground` at `stage`; offsets are seconds after `created`
    for scheduled, container started, containers ready, warmed."""
    index = STAGES.index(stage)
    scheduled, started, healthy, warmed = (created + dt.timedelta(seconds=s) for s in offsets)
    name = f"{playground}-0" if worker_index == "0" else f"{playground}-0-{worker_index}"
    spec: dict[str, Any] = {
        "initContainers": [
            {
                "name": "model-loader",
                "image": "inftyai/model-loader:v0.0.10",
                "volumeMounts": [{"name": "model-volume", "mountPath": "/workspace/models/"}],
            }
        ],
        "containers": [
            {
                "name": MODEL_RUNNER_CONTAINER,
                "image": "vllm/vllm-openai:v0.7.3",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "readinessProbe": {
                    "httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                    "periodSeconds": 10,
                    "failureThreshold": 3,
                },
            }
        ],
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
        "subdomain": playground,
        "hostname": name,
    }
    if gated:
        spec["readinessGates"] = [{"conditionType": GATE_CONDITION}]
    status: dict[str, Any] = {"phase": "Pending", "qosClass": "Burstable"}
    conditions: list[dict[str, Any]] = []
    if index >= 1:
        spec["nodeName"] = "gpu-node-1"
        conditions.append(_cond("PodScheduled", True, scheduled))
        status["hostIP"] = "172.18.0.3"
    else:
        conditions.append(_cond("PodScheduled", False, created, "Unschedulable", "0/3 nodes are available"))
    if index >= 2:
        status.update(phase="Running", podIP=pod_ip, podIPs=[{"ip": pod_ip}], startTime=rfc3339(scheduled))
        conditions += [
            _cond("PodReadyToStartContainers", True, scheduled),
            _cond("Initialized", True, started),
        ]
        ready_containers = index >= 3
        conditions.append(
            _cond("ContainersReady", ready_containers, healthy if ready_containers else started)
        )
        gate_open = index >= 4 or not gated
        ready = ready_containers and gate_open
        if ready:
            conditions.append(_cond("Ready", True, warmed if gated else healthy))
        elif ready_containers:
            conditions.append(
                _cond(
                    "Ready",
                    False,
                    healthy,
                    "ReadinessGatesNotReady",
                    f'corresponding condition of pod readiness gate "{GATE_CONDITION}" does not exist.',
                )
            )
        else:
            conditions.append(_cond("Ready", False, started, "ContainersNotReady"))
        if index >= 4 and gated:
            conditions.append(_cond(GATE_CONDITION, True, warmed, "Warmed", "3/3 warmup requests ok"))
        status["containerStatuses"] = [
            {
                "name": MODEL_RUNNER_CONTAINER,
                "image": "docker.io/vllm/vllm-openai:v0.7.3",
                "imageID": "docker.io/vllm/vllm-openai@sha256:4f1d",
                "containerID": "containerd://9a8b7c",
                "ready": ready_containers,
                "started": True,
                "restartCount": restarts,
                "state": {"running": {"startedAt": rfc3339(started)}},
            }
        ]
    status["conditions"] = conditions
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "resourceVersion": str(100 + index),
            "creationTimestamp": rfc3339(created),
            "generateName": f"{playground}-",
            "labels": {
                LWS_NAME_LABEL: playground,
                LWS_WORKER_INDEX_LABEL: worker_index,
                "leaderworkerset.sigs.k8s.io/group-index": "0",
                "leaderworkerset.sigs.k8s.io/group-key": "6a1d0f7c2e9b",
                "leaderworkerset.sigs.k8s.io/template-revision-hash": "5c9d8b7f6",
                MODEL_NAME_LABEL: model_name,
                "llmaz.io/model-family-name": "llama3",
                "apps.kubernetes.io/pod-index": "0",
                "controller-revision-hash": f"{playground}-7d9f8c6b5",
                "statefulset.kubernetes.io/pod-name": name,
            },
            "annotations": {"leaderworkerset.sigs.k8s.io/size": "1"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": playground,
                    "uid": "0e6f1c55-93a2-4b7e-8d41-7c2a9b3e1f00",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
        "status": status,
    }


def make_playground(
    replicas: int | None = 0,
    *,
    name: str = "llama",
    namespace: str = "models",
    model_name: str = "llama-3-8b",
) -> dict[str, Any]:
    """A Playground as the API returns it (KEDA-scaled: no elasticConfig)."""
    spec: dict[str, Any] = {
        "modelClaim": {"modelName": model_name},
        "backendRuntimeConfig": {"backendName": "vllm"},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "inference.llmaz.io/v1alpha1",
        "kind": "Playground",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": "c1b2a3d4-0000-4e5f-8a9b-112233445566",
            "generation": 4,
            "resourceVersion": "9001",
            "creationTimestamp": rfc3339(T0 - dt.timedelta(days=1)),
            "labels": {"app.kubernetes.io/managed-by": "Helm", MODEL_NAME_LABEL: model_name},
        },
        "spec": spec,
        "status": {
            "replicas": replicas or 0,
            "selector": f"{LWS_NAME_LABEL}={name},{LWS_WORKER_INDEX_LABEL}=0",
            "conditions": [
                {
                    "type": "Available" if replicas else "Progressing",
                    "status": "True",
                    "reason": "PlaygroundReady" if replicas else "PlaygroundInProgress",
                    "message": "",
                    "lastTransitionTime": rfc3339(T0 - dt.timedelta(hours=1)),
                }
            ],
        },
    }


def apply_status_patch(pod: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """What the API server returns after a strategic merge patch of status.conditions
    (merged by `type`), with Ready recomputed as the kubelet would once gates are True."""
    result = copy.deepcopy(pod)
    conditions = result.setdefault("status", {}).setdefault("conditions", [])
    for new in patch.get("status", {}).get("conditions", []):
        for i, old in enumerate(conditions):
            if old["type"] == new["type"]:
                conditions[i] = {**old, **new}
                break
        else:
            conditions.append(dict(new))
    by_type = {c["type"]: c for c in conditions}
    gates = [g["conditionType"] for g in result.get("spec", {}).get("readinessGates", [])]
    containers = by_type.get("ContainersReady", {}).get("status") == "True"
    if containers and all(by_type.get(g, {}).get("status") == "True" for g in gates):
        ready = by_type.get("Ready")
        stamp = max((by_type[g]["lastTransitionTime"] for g in gates), default=None)
        if ready is not None and ready.get("status") != "True":
            ready.update(status="True", lastTransitionTime=stamp or ready["lastTransitionTime"])
            ready.pop("reason", None)
            ready.pop("message", None)
    return result
