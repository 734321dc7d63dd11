"""The async path on the second broker: NATS JetStream, scaled by KEDA's nats-jetstream triggers.

The release is switched to `worker.broker: nats` (manifests/e2e/nats.yaml runs the server). With
the model and the worker at zero, a backlog published to JetStream must wake both through the
triggers KEDA reads from the NATS monitoring endpoint, and every job must finish. Runs after the
Redis-broker tests; the ledger of test_99 covers its requests too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from llmaz_serverless.toolpaths import repo_root
from llmaz_serverless_testing.e2e.asyncjobs import (
    submit_jobs,
    wait_jobs_finished,
    wait_woken_from_zero,
    worker_replicas,
)
from llmaz_serverless_testing.e2e.plan import NAMESPACE, RELEASE
from llmaz_serverless_testing.e2e.wait import wait_until


def _our_values(values: dict[str, Any]) -> dict[str, Any]:
    """Our chart's part of the release's values: nested under `llmaz-serverless` in the stack chart."""
    return values.setdefault("llmaz-serverless", {}) if "llmaz-serverless" in values else values


def _switch_broker(cluster, broker: str, tmp_path: Path) -> None:
    """`helm upgrade` the e2e release with only `worker.broker` changed; waits for the rollout."""
    meta = json.loads(cluster.run([cluster.helm, "get", "metadata", RELEASE, "-n", NAMESPACE, "-o", "json"]))
    values = json.loads(cluster.run([cluster.helm, "get", "values", RELEASE, "-n", NAMESPACE, "-o", "json"]))
    _our_values(values).setdefault("worker", {})["broker"] = broker
    path = tmp_path / "values.json"
    path.write_text(json.dumps(values))
    chart = repo_root() / "charts" / meta["chart"]
    upgrade = [cluster.helm, "upgrade", RELEASE, str(chart), "-n", NAMESPACE, "-f", str(path)]
    cluster.run([*upgrade, "--wait", "--timeout", "10m"], timeout=900)


def _trigger_types(cluster, scaled_object: str) -> list[str]:
    obj = cluster.get("scaledobjects.keda.sh", scaled_object)
    return [t["type"] for t in obj["spec"]["triggers"]]


def _ready(cluster, scaled_object: str) -> bool:
    conditions = cluster.get("scaledobjects.keda.sh", scaled_object).get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_backlog_on_nats_wakes_worker_and_model(cluster, names, port_forward, ledger, tmp_path):
    cluster.run([cluster.kubectl, "rollout", "status", "-n", "nats", "deployment/nats", "--timeout=5m"])
    _switch_broker(cluster, "nats", tmp_path)
    model = names.models[0]
    assert "nats-jetstream" in _trigger_types(cluster, model.scaled_object)
    assert "redis-streams" not in _trigger_types(cluster, model.scaled_object)
    # The worker's job queue moves to NATS; its webhook outbox stays a Redis stream.
    assert "nats-jetstream" in _trigger_types(cluster, names.worker_scaled_object)
    # KEDA built every scaler of both objects (it reads /jsz for the nats-jetstream ones).
    for scaled_object in (model.scaled_object, names.worker_scaled_object):
        wait_until(lambda so=scaled_object: _ready(cluster, so), what=f"{scaled_object} Ready", timeout=120)

    wait_until(
        lambda: cluster.playground_replicas(model.playground) == 0,
        what="the model at zero before the NATS backlog",
        timeout=900,
        interval=10,
    )
    wait_until(
        lambda: worker_replicas(cluster, names) == 0,
        what="the worker at zero before the NATS backlog",
        timeout=600,
        interval=10,
    )

    # A new forward: the upgrade replaced the gateway pods the session's forward pointed at.
    gateway = port_forward(names.gateway_service, names.gateway_port)
    wait_until(
        lambda: httpx.get(f"{gateway}/healthz", timeout=2).status_code == 200, what="gateway", timeout=120
    )
    ids = submit_jobs(gateway, model, 3, ledger.record, "nats async")
    wait_woken_from_zero(cluster, names, model, "JetStream backlog")
    states = wait_jobs_finished(gateway, ids, ledger.record, "nats async")
    assert states == ["succeeded"] * len(ids)
