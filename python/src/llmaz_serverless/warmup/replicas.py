"""kopf handler: every watch event of a model pod goes to the timeline and the readiness gate."""

from __future__ import annotations

from typing import Any

import kopf

from llmaz_serverless.warmup.pods import LWS_NAME_LABEL


async def warm_new_replica(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Warm a gated replica once its containers are ready, then open its readiness gate.

    An event handler (not a create/update handler) on purpose: kopf keeps no state
    on the pod for it, so the controller needs no RBAC to patch pods' metadata.
    Warming runs in a background task; the handler returns at once.
    """
    await memo.warmup.on_pod_event(type, dict(body))


def register(registry: kopf.OperatorRegistry) -> None:
    kopf.on.event("", "v1", "pods", labels={LWS_NAME_LABEL: kopf.PRESENT}, registry=registry)(
        warm_new_replica
    )
