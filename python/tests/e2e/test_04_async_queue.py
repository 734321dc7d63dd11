"""The async path scales the worker and the model from zero on backlog and notifies."""

import httpx

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
    deploy = cluster.get("deployments", names.worker_deployment)
    assert int(deploy["spec"].get("replicas", 0)) == 0


def test_backlog_wakes_worker_and_model_and_the_webhook_is_signed(
    cluster, names, gateway_url, port_forward, ledger
):
    model = names.models[0]
    ids = []
    for i in range(4):
        response = httpx.post(
            f"{gateway_url}/v1/async/chat/completions",
            json={
                "model": model.served_name,
                "max_tokens": 8,
                "messages": [{"role": "user", "content": f"async {i}"}],
                "async": {"webhook": RECEIVER},
            },
            timeout=30,
        )
        ledger.record(f"async submit {i}", response.status_code)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])

    wait_until(
        lambda: int(cluster.get("deployments", names.worker_deployment)["spec"].get("replicas", 0)) >= 1,
        what="the worker to scale from zero on lag",
        timeout=180,
        interval=5,
    )
    wait_until(
        lambda: cluster.playground_replicas(model.playground) >= 1,
        what="the model to scale from zero on lag",
        timeout=180,
        interval=5,
    )

    def all_done():
        states = [httpx.get(f"{gateway_url}/v1/async/{job}", timeout=10).json()["status"] for job in ids]
        return states if all(s in ("succeeded", "failed") for s in states) else None

    states = wait_until(all_done, what="every async job to finish", timeout=600, interval=5)
    for job, state in zip(ids, states, strict=True):
        ledger.record(f"async job {job}", 200 if state == "succeeded" else 500)
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
