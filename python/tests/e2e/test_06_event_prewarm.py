"""A matching CloudEvent wakes a model at zero before any inference request arrives."""

import uuid

import httpx

from llmaz_serverless_testing.e2e.wait import wait_until


def test_session_event_prewarms_the_model_from_zero(cluster, names, gateway_url, ledger):
    model = names.models[0]
    assert "metrics-api" in model.triggers, "the pre-warm trigger must live in the model's one ScaledObject"
    wait_until(
        lambda: cluster.playground_replicas(model.playground) == 0,
        what="the model at zero before the event",
        timeout=900,
        interval=10,
    )

    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/chat-ui/e2e",
        "type": "com.example.chatui.session.opened",
        "datacontenttype": "application/json",
        "data": {"user": "e2e"},
    }
    response = httpx.post(
        f"{gateway_url}/v1/events",
        json=event,
        timeout=30,
        headers={"content-type": "application/cloudevents+json"},
    )
    ledger.record("session event", response.status_code)
    assert response.status_code < 300, response.text

    state = httpx.get(f"{gateway_url}/v1/prewarm/{model.served_name}", timeout=10).json()
    assert state["replicas"] == 1
    wait_until(
        lambda: cluster.playground_replicas(model.playground) >= 1,
        what="KEDA to pre-warm the model from the event alone",
        timeout=180,
        interval=5,
    )
    wait_until(
        lambda: cluster.ready_model_pods(model.open_model),
        what="the pre-warmed pod to be Ready (warmed)",
        timeout=300,
        interval=5,
    )
