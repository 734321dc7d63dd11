"""worker.broker: nats: nats-jetstream triggers on each async model's consumer; `queue:` agrees."""

from __future__ import annotations

from typing import Any

import pytest
from helmrender import RELEASE, render

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.queue.nats_jetstream import NatsJetStreamBroker
from llmaz_serverless.queue.settings import QueueSettings

CI = "ci/12-async-nats-values.yaml"
WORKER = f"{RELEASE}-llmaz-serverless-worker"
SERVED = "org/batch-3.1"


def _triggers(so: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in so["spec"]["triggers"]}


def _queue_settings(out: Any) -> QueueSettings:
    return RuntimeConfig.model_validate(out.runtime()).section("queue", QueueSettings)


def test_model_wakes_on_its_own_consumer_when_the_broker_is_nats() -> None:
    out = render(CI)
    batch = _triggers(out.get("ScaledObject", f"{RELEASE}-batch"))
    assert set(batch) == {"http", "queue"}
    assert batch["queue"]["type"] == "nats-jetstream"
    assert batch["queue"]["metadata"] == {
        "natsServerMonitoringEndpoint": "nats.messaging:8222",
        "account": "$G",
        "stream": "JOBS",
        "consumer": "workers-org_batch-3_1",
        "lagThreshold": "4",
        "activationLagThreshold": "2",
        "useHttps": "false",
    }
    assert set(_triggers(out.get("ScaledObject", f"{RELEASE}-online"))) == {"http"}


def test_worker_wakes_on_every_async_consumer_and_the_redis_outbox_when_the_broker_is_nats() -> None:
    so = render(CI).get("ScaledObject", WORKER)
    triggers = _triggers(so)
    assert set(triggers) == {"queue-batch", "notify-queue", "notify-inflight"}
    queue = triggers["queue-batch"]
    assert queue["type"] == "nats-jetstream"
    assert queue["metadata"]["consumer"] == "workers-org_batch-3_1"
    assert queue["metadata"]["lagThreshold"] == "10" and queue["metadata"]["activationLagThreshold"] == "0"
    # webhook deliveries wait in the Redis outbox whatever the job broker is
    assert {triggers[n]["type"] for n in ("notify-queue", "notify-inflight")} == {"redis-streams"}


def test_no_redis_stream_trigger_watches_jobs_when_the_broker_is_nats() -> None:
    out = render(CI)
    streams = {
        t["metadata"]["stream"]
        for so in out.kinds("ScaledObject")
        for t in so["spec"]["triggers"]
        if t["type"] == "redis-streams"
    }
    assert streams == {_queue_settings(out).notify_stream}


def test_runtime_names_the_consumers_and_stream_the_triggers_read_when_the_broker_is_nats() -> None:
    out = render(CI)
    settings = _queue_settings(out)
    assert settings.broker == "nats"
    assert settings.nats.url == "nats://nats.messaging:4222"
    broker = NatsJetStreamBroker(settings.nats, models=[SERVED])
    for so in out.kinds("ScaledObject"):
        for t in so["spec"]["triggers"]:
            if t["type"] == "nats-jetstream":
                assert t["metadata"]["stream"] == settings.nats.stream
                assert t["metadata"]["consumer"] == broker.consumer_for(SERVED)


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        pytest.param([], "nats.messaging:8222", id="derived-from-the-url"),
        pytest.param(["worker.nats.url=nats://nats:4222"], "nats:8222", id="url-without-namespace"),
        pytest.param(
            ["worker.nats.keda.monitoringEndpoint=nats-mon.ops:9000"], "nats-mon.ops:9000", id="set"
        ),
    ],
)
def test_monitoring_endpoint_comes_from_the_url_or_the_override(sets: list[str], expected: str) -> None:
    so = render(CI, sets=sets).get("ScaledObject", WORKER)
    assert _triggers(so)["queue-batch"]["metadata"]["natsServerMonitoringEndpoint"] == expected


def test_account_tls_and_authentication_follow_values_when_set() -> None:
    out = render(
        CI,
        sets=[
            "worker.nats.keda.account=JOBS_ACCOUNT",
            "worker.nats.keda.useHttps=true",
            "worker.nats.keda.authenticationRef=nats-monitoring",
        ],
    )
    for so in (out.get("ScaledObject", WORKER), out.get("ScaledObject", f"{RELEASE}-batch")):
        queue = next(t for t in so["spec"]["triggers"] if t["type"] == "nats-jetstream")
        assert queue["authenticationRef"] == {"name": "nats-monitoring"}
        assert queue["metadata"]["account"] == "JOBS_ACCOUNT" and queue["metadata"]["useHttps"] == "true"


def test_nats_trigger_is_averagevalue_like_the_others_when_fallback_is_enabled() -> None:
    out = render(CI, sets=["modelDefaults.scaling.fallback.enabled=true"])
    so = out.get("ScaledObject", f"{RELEASE}-batch")
    assert {t.get("metricType") for t in so["spec"]["triggers"]} == {"AverageValue"}


def test_redis_broker_stays_the_default_and_renders_no_nats_trigger() -> None:
    out = render("ci/05-async-queue-values.yaml")
    assert _queue_settings(out).broker == "redis"
    assert not [
        t for so in out.kinds("ScaledObject") for t in so["spec"]["triggers"] if t["type"] == "nats-jetstream"
    ]


def test_worker_config_cannot_switch_the_broker_behind_the_triggers_back() -> None:
    from helmrender import render_error

    err = render_error(CI, sets=["worker.config.broker=redis"])
    assert "broker" in err
