"""A model at zero wakes on the first request, which is held and served after warmup."""

from datetime import UTC, datetime

import httpx

from llmaz_serverless.warmup.timeline import TIMELINE_REASON
from llmaz_serverless_testing.e2e.cluster import WARMED_CONDITION, condition_time
from llmaz_serverless_testing.e2e.wait import wait_until


def test_model_starts_at_zero_replicas(cluster, names):
    model = names.models[0]
    assert cluster.playground_replicas(model.playground) == 0
    assert cluster.get("pods", selector=f"llmaz.io/model-name={model.open_model}")["items"] == []


def test_first_request_is_held_and_served_after_the_warmup_gate(cluster, names, gateway_url, ledger):
    model = names.models[0]
    sent_at = datetime.now(UTC)
    response = httpx.post(
        f"{gateway_url}/v1/chat/completions",
        json={
            "model": model.served_name,
            "messages": [{"role": "user", "content": "hello"}],
            "max_tokens": 8,
        },
        timeout=600,
    )
    answered_at = datetime.now(UTC)
    ledger.record("cold first request", response.status_code)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]

    pods = cluster.ready_model_pods(model.open_model)
    assert pods, "a model pod must be Ready after the request was served"
    warmed_at = condition_time(pods[0], WARMED_CONDITION)
    assert warmed_at is not None, f"{WARMED_CONDITION} never turned True"
    assert sent_at.replace(microsecond=0) <= warmed_at <= answered_at, (
        "the gate must turn True while the first request is held, before it is answered"
    )
    assert cluster.playground_replicas(model.playground) >= 1


def test_warmup_recorded_its_timeline_on_the_playground(cluster, names):
    model = names.models[0]

    def timeline_event():
        events = cluster.get("events", selector=None)["items"]
        return [
            e
            for e in events
            if e["involvedObject"].get("name") == model.playground and e.get("reason") == TIMELINE_REASON
        ]

    assert wait_until(timeline_event, what=f"a {TIMELINE_REASON} event on the Playground", timeout=60)
