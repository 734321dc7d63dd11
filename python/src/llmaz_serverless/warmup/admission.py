"""Mutating admission: add the `warmed` readiness gate to new pods of serverless models.

llmaz's Playground and BackendRuntime cannot add `readinessGates` to the pods
they generate (UPSTREAM.md), so the controller serves a mutating webhook that
adds the gate when a model pod is created. The chart renders the
MutatingWebhookConfiguration (kopf's self-management would need RBAC on
webhook configurations, which the controller does not get):

- service: the controller's Service, port `warmup.webhook.port` (9443), path
  `/gate-readiness-until-warm` (kopf routes `<path>/<handler id>`);
- rules: CREATE of `pods` (core/v1), in the models' namespaces;
- objectSelector: `leaderworkerset.sigs.k8s.io/name` In [the models' Playground
  names] and `leaderworkerset.sigs.k8s.io/worker-index` In ["0"] (labels LWS puts
  on the pod template, so they are on the pod when it is admitted);
- failurePolicy `Ignore`: if the controller is down, pods are created without the
  gate (served unwarmed) rather than not at all; sideEffects `None`;
  reinvocationPolicy `Never`; timeoutSeconds a few seconds.

The handler itself checks the pod against runtime.yaml again, so a selector that
is too wide only costs a webhook call, never a gate on an unrelated pod.
"""

from __future__ import annotations

from typing import Any

import kopf

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.warmup import pods
from llmaz_serverless.warmup.pods import LWS_NAME_LABEL

WEBHOOK_ID = "gate-readiness-until-warm"


def readiness_gates_with_warmup(
    pod: pods.Pod, config: RuntimeConfig, namespace: str | None = None
) -> list[dict[str, str]] | None:
    """The pod's readinessGates with ours added, or None when this pod gets no gate."""
    ns = pods.namespace(pod) or namespace or ""
    model = pods.model_for(config, ns, pods.playground_of(pod))
    if model is None or not model.warmup.enabled or not pods.is_leader(pod):
        return None
    if pods.has_gate(pod):
        return None
    existing = list((pod.get("spec") or {}).get("readinessGates") or [])
    return [*existing, {"conditionType": pods.GATE_CONDITION}]


def gate_readiness_until_warm(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, namespace: str | None, **_: Any
) -> None:
    """Hold a new model replica out of Service endpoints until the controller has warmed it."""
    gates = readiness_gates_with_warmup(dict(body), memo.warmup.config, namespace)
    if gates is not None:
        patch.spec["readinessGates"] = gates


def register(registry: kopf.OperatorRegistry) -> None:
    kopf.on.mutate(
        "",
        "v1",
        "pods",
        id=WEBHOOK_ID,
        operations=["CREATE"],
        labels={LWS_NAME_LABEL: kopf.PRESENT},
        ignore_failures=True,
        side_effects=False,
        registry=registry,
    )(gate_readiness_until_warm)
