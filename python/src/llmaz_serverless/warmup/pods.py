"""Reading llmaz model pods as the API returns them (plain dicts), and finding their model.

How a pod is tied to a model (llmaz 0.1.x on LWS 0.6, read from their sources):
llmaz turns a Playground into an inference Service of the same name, which
becomes a LeaderWorkerSet of that name; LWS's leader StatefulSet stamps every
pod it creates with `leaderworkerset.sigs.k8s.io/name: <playground>` and
`leaderworkerset.sigs.k8s.io/worker-index: "0"`, and llmaz adds
`llmaz.io/model-name: <OpenModel>`. Playground labels are not copied to pods.
The server container is `model-runner`, listening on 8080. So a pod belongs to
the runtime.yaml model whose (namespace, playground) equals the pod's
(namespace, LWS name); only leader pods (index 0) serve HTTP.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from llmaz_serverless.config import ModelRuntime, RuntimeConfig

# The readiness gate this project adds to model pods and sets once warmed.
GATE_CONDITION = "serving.llmaz-serverless.io/warmed"
LWS_NAME_LABEL = "leaderworkerset.sigs.k8s.io/name"
LWS_WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
MODEL_NAME_LABEL = "llmaz.io/model-name"
MODEL_RUNNER_CONTAINER = "model-runner"

Pod = dict[str, Any]


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def name(obj: dict[str, Any]) -> str:
    return str(meta(obj).get("name") or "")


def namespace(obj: dict[str, Any]) -> str:
    return str(meta(obj).get("namespace") or "")


def uid(obj: dict[str, Any]) -> str:
    return str(meta(obj).get("uid") or f"{namespace(obj)}/{name(obj)}")


def labels(obj: dict[str, Any]) -> dict[str, str]:
    return meta(obj).get("labels") or {}


def playground_of(pod: Pod) -> str | None:
    return labels(pod).get(LWS_NAME_LABEL)


def is_leader(pod: Pod) -> bool:
    # Single-host Playgrounds have only index 0; on multi-host only the leader serves.
    return labels(pod).get(LWS_WORKER_INDEX_LABEL, "0") == "0"


def has_gate(pod: Pod, condition_type: str = GATE_CONDITION) -> bool:
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    return any(gate.get("conditionType") == condition_type for gate in gates)


def condition(pod: Pod, condition_type: str) -> dict[str, Any] | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == condition_type:
            return dict(cond)
    return None


def condition_true(pod: Pod, condition_type: str) -> bool:
    cond = condition(pod, condition_type)
    return cond is not None and cond.get("status") == "True"


def condition_time(pod: Pod, condition_type: str) -> dt.datetime | None:
    """When a condition last turned True (None while it is not True)."""
    cond = condition(pod, condition_type)
    if cond is None or cond.get("status") != "True":
        return None
    return parse_time(cond.get("lastTransitionTime"))


def containers_ready(pod: Pod) -> bool:
    """Every container passed its readiness probe (our gate is not part of this condition)."""
    return condition_true(pod, "ContainersReady")


def restart_count(pod: Pod) -> int:
    """Container restarts so far (all containers): a restarted server has lost its warm state."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(status.get("restartCount") or 0) for status in statuses)


def pod_ip(pod: Pod) -> str | None:
    return (pod.get("status") or {}).get("podIP") or None


def phase(pod: Pod) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def is_terminating(pod: Pod) -> bool:
    return bool(meta(pod).get("deletionTimestamp")) or phase(pod) in ("Succeeded", "Failed")


def created_at(obj: dict[str, Any]) -> dt.datetime | None:
    return parse_time(meta(obj).get("creationTimestamp"))


def container_started_at(pod: Pod) -> dt.datetime | None:
    """When the model server container started running (the model-runner, else the first running one)."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    ordered = sorted(statuses, key=lambda s: s.get("name") != MODEL_RUNNER_CONTAINER)
    for status in ordered:
        running = (status.get("state") or {}).get("running")
        if running and running.get("startedAt"):
            return parse_time(running["startedAt"])
    return None


def parse_time(value: Any) -> dt.datetime | None:
    """An API timestamp (RFC 3339, `Z` or offset, optional fraction) as an aware datetime."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def model_for(config: RuntimeConfig, ns: str, playground: str | None) -> ModelRuntime | None:
    """The runtime.yaml model served by Playground `playground` in namespace `ns`."""
    if not playground:
        return None
    return next((m for m in config.models if m.namespace == ns and m.playground == playground), None)


def model_for_pod(config: RuntimeConfig, pod: Pod) -> ModelRuntime | None:
    return model_for(config, namespace(pod), playground_of(pod))
