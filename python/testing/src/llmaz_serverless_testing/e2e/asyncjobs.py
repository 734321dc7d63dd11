"""The async path as the e2e tests drive it, on either broker: submit jobs through the gateway,
see KEDA wake the worker and the model from zero on the backlog, wait for every job's end.

`record(what, status)` is the session's request ledger (tests/e2e/conftest.py), so the last
test can assert that no user request failed across the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from llmaz_serverless_testing.e2e.cluster import Cluster
from llmaz_serverless_testing.e2e.names import InstallNames, ModelNames
from llmaz_serverless_testing.e2e.wait import wait_until

Record = Callable[[str, int | None], None]


def submit_jobs(
    gateway: str,
    model: ModelNames,
    count: int,
    record: Record,
    label: str,
    extra: dict[str, Any] | None = None,
) -> list[str]:
    """POST `count` chat jobs to /v1/async (each 202), `extra` merged into the body; their ids."""
    ids = []
    for i in range(count):
        body = {
            "model": model.served_name,
            "max_tokens": 8,
            "messages": [{"role": "user", "content": f"{label} {i}"}],
            **(extra or {}),
        }
        response = httpx.post(f"{gateway}/v1/async/chat/completions", json=body, timeout=30)
        record(f"{label} submit {i}", response.status_code)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def worker_replicas(cluster: Cluster, names: InstallNames) -> int:
    assert names.worker_deployment is not None, "the e2e values enable the worker"
    return int(cluster.get("deployments", names.worker_deployment)["spec"].get("replicas", 0))


def wait_woken_from_zero(cluster: Cluster, names: InstallNames, model: ModelNames, backlog: str) -> None:
    """The worker, then the model, scaled up from zero by the queue's backlog."""
    wait_until(
        lambda: worker_replicas(cluster, names) >= 1,
        what=f"the worker to scale from zero on the {backlog}",
        timeout=180,
        interval=5,
    )
    wait_until(
        lambda: cluster.playground_replicas(model.playground) >= 1,
        what=f"the model to scale from zero on the {backlog}",
        timeout=180,
        interval=5,
    )


def wait_jobs_finished(gateway: str, ids: list[str], record: Record, label: str) -> list[str]:
    """Poll each job until all succeeded or failed; every end goes to the ledger; their states."""

    def all_done() -> list[str] | None:
        states = [httpx.get(f"{gateway}/v1/async/{job}", timeout=10).json()["status"] for job in ids]
        return states if all(s in ("succeeded", "failed") for s in states) else None

    states: list[str] = wait_until(all_done, what=f"every {label} job to finish", timeout=600, interval=5)
    for job, state in zip(ids, states, strict=True):
        record(f"{label} job {job}", 200 if state == "succeeded" else 500)
    return states
