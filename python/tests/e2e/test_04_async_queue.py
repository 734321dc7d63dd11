"""The async path scales the worker and the model from zero on backlog and notifies."""

import httpx

from llmaz_serverless_testing.e2e.asyncjobs import (
    submit_jobs,
    wait_jobs_finished,
    wait_woken_from_zero,
    worker_replicas,
)
from llmaz_serverless_testing.e2e.wait import wait_until

RECEIVER = "http://webhook-receiver.llmaz-serverless.svc:8090/hook"


def test_worker_and_model_are_at_zero_before_the_backlog(cluster, names):
    model = names.models[0]
    wait_until(
        lambda: cluster.playground_replicas(model.playground) == 0,
        what="the model at zero before the async test",
        timeout=600,
        interval=10,
    )
    assert worker_replicas(cluster, names) == 0


def test_backlog_wakes_worker_and_model_and_the_webhook_is_signed(
    cluster, names, gateway_url, port_forward, ledger
):
    model = names.models[0]
    ids = submit_jobs(gateway_url, model, 4, ledger.record, "async", {"async": {"webhook": RECEIVER}})
    wait_woken_from_zero(cluster, names, model, "Redis Streams lag")
    states = wait_jobs_finished(gateway_url, ids, ledger.record, "async")
    assert states == ["succeeded"] * len(ids)

    receiver = port_forward("webhook-receiver", 8090)
    deliveries = wait_until(
        lambda: (
            [
                d
                for d in httpx.get(f"{receiver}/received", timeout=10).json()
                if d["event"] and d["event"].get("data", {}).get("id") in ids
            ]
            or None
        ),
        what="webhook deliveries for the jobs",
        timeout=120,
        interval=5,
    )
    assert len({d["event"]["data"]["id"] for d in deliveries}) == len(ids)
    assert all(d["signatureOk"] for d in deliveries)
