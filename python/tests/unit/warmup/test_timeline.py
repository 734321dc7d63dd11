"""Cold-start phase bookkeeping, fed with Playgrounds and Pods shaped as the API returns them."""

import datetime as dt

import pytest

from llmaz_serverless_testing.warmup import T0, make_playground, make_pod


def phase_sum(controller, phase: str, trigger: str = "from_zero") -> float | None:
    return controller.metrics.registry.get_sample_value(
        "llmaz_serverless_cold_start_phase_seconds_sum",
        {"model": "llama-3-8b", "trigger": trigger, "phase": phase},
    )


@pytest.fixture
def clock(controller):
    now = {"t": T0}
    controller.timeline.clock = lambda: now["t"]
    return now


async def test_first_sighting_of_playground_is_not_a_scale_up(controller, api, clock):
    await controller.on_playground_event(None, make_playground(1))
    assert controller.timeline.decisions == {}
    assert api.events == []


async def test_zero_to_one_is_recorded_as_from_zero_decision_with_event(controller, api, clock):
    await controller.on_playground_event(None, make_playground(0))
    await controller.on_playground_event("MODIFIED", make_playground(1))
    decision = controller.timeline.decisions[("models", "llama")]
    assert (decision.from_replicas, decision.to_replicas, decision.trigger) == (0, 1, "from_zero")
    assert api.reasons("Playground") == ["ScaleUpSeen"]
    ns, event = api.events[0]
    assert ns == "models"
    assert event["involvedObject"]["uid"] == "c1b2a3d4-0000-4e5f-8a9b-112233445566"
    assert "spec.replicas 0 -> 1" in event["message"]
    assert (
        controller.metrics.registry.get_sample_value(
            "llmaz_serverless_scale_ups_total", {"model": "llama-3-8b", "trigger": "from_zero"}
        )
        == 1.0
    )


async def test_scale_down_and_unconfigured_playgrounds_record_nothing(controller, api, clock):
    await controller.on_playground_event(None, make_playground(2))
    await controller.on_playground_event("MODIFIED", make_playground(1))
    await controller.on_playground_event(None, make_playground(0, name="unrelated"))
    await controller.on_playground_event("MODIFIED", make_playground(3, name="unrelated"))
    assert controller.timeline.decisions == {}
    assert api.events == []


async def test_phases_are_measured_from_the_scale_up_decision(controller, api, clock):
    await controller.on_playground_event(None, make_playground(0))
    clock["t"] = T0 - dt.timedelta(seconds=1)  # decision seen a second before the pod exists
    await controller.on_playground_event("MODIFIED", make_playground(1))
    clock["t"] = T0 + dt.timedelta(seconds=50)
    await controller.timeline.observe_pod(make_pod("created"), controller.config.models[0])
    await controller.timeline.observe_pod(make_pod("scheduled"), controller.config.models[0])
    reached = await controller.timeline.observe_pod(make_pod("healthy"), controller.config.models[0])
    assert reached == ["containers_started", "server_healthy"]
    replica = next(iter(controller.timeline.replicas.values()))
    assert replica.trigger == "from_zero"
    assert replica.phases == {
        "pod_created": 1.0,
        "scheduled": 3.0,
        "containers_started": 10.0,
        "server_healthy": 42.0,
    }
    assert phase_sum(controller, "server_healthy") == 42.0
    assert api.reasons("Playground") == [
        "ScaleUpSeen",
        "ReplicaCreated",
        "ReplicaScheduled",
        "ContainersStarted",
        "ServerHealthy",
    ]


async def test_ready_emits_summary_of_all_phases(controller, api, clock):
    await controller.on_playground_event(None, make_playground(0))
    clock["t"] = T0
    await controller.on_playground_event("MODIFIED", make_playground(1))
    await controller.timeline.observe_pod(make_pod("warmed"), controller.config.models[0])
    assert api.reasons("Playground")[-3:] == ["ReplicaWarmed", "ReplicaReady", "ColdStartTimeline"]
    summary = api.events[-1][1]["message"]
    assert summary.startswith("from_zero cold start of models/llama-0 (from scale-up seen):")
    assert "server healthy +41s, warmed +43s, ready +43s" in summary


async def test_pod_without_recent_decision_is_timed_from_its_creation(controller, api, clock):
    reached = await controller.timeline.observe_pod(make_pod("healthy"), controller.config.models[0])
    assert reached[0] == "pod_created"
    replica = next(iter(controller.timeline.replicas.values()))
    assert replica.trigger == "pod_replaced"
    assert replica.phases["pod_created"] == 0.0
    assert phase_sum(controller, "server_healthy", "pod_replaced") == 41.0


async def test_pod_already_ready_when_first_seen_is_not_timed(controller, api, clock):
    assert await controller.timeline.observe_pod(make_pod("warmed"), controller.config.models[0]) == []
    assert api.events == []


async def test_decision_is_claimed_once_per_new_replica(controller, api, clock):
    await controller.on_playground_event(None, make_playground(1))
    await controller.on_playground_event("MODIFIED", make_playground(2))
    model = controller.config.models[0]
    await controller.timeline.observe_pod(make_pod("created", uid="pod-a"), model)
    await controller.timeline.observe_pod(make_pod("created", uid="pod-b"), model)
    triggers = {uid: r.trigger for uid, r in controller.timeline.replicas.items()}
    assert triggers == {"pod-a": "scale_out", "pod-b": "pod_replaced"}


async def test_decision_older_than_max_age_is_ignored(controller, api, clock):
    await controller.on_playground_event(None, make_playground(0))
    clock["t"] = T0 - dt.timedelta(hours=2)
    await controller.on_playground_event("MODIFIED", make_playground(1))
    await controller.timeline.observe_pod(make_pod("created"), controller.config.models[0])
    assert next(iter(controller.timeline.replicas.values())).trigger == "pod_replaced"


async def test_mark_records_first_user_token_once(controller, api, clock):
    await controller.on_playground_event(None, make_playground(0))
    await controller.on_playground_event("MODIFIED", make_playground(1))
    pod = make_pod("healthy")
    model = controller.config.models[0]
    await controller.timeline.observe_pod(pod, model)
    assert await controller.timeline.mark(pod, model, "first_user_token", T0 + dt.timedelta(seconds=60))
    assert not await controller.timeline.mark(pod, model, "first_user_token", T0 + dt.timedelta(seconds=90))
    assert phase_sum(controller, "first_user_token") == 60.0
    assert api.reasons("Playground")[-1] == "FirstUserToken"


async def test_deleted_pod_and_playground_are_forgotten(controller, api, clock):
    await controller.on_playground_event(None, make_playground(0))
    await controller.on_playground_event("MODIFIED", make_playground(1))
    await controller.on_pod_event(None, make_pod("scheduled"))
    await controller.on_pod_event("DELETED", make_pod("scheduled"))
    await controller.on_playground_event("DELETED", make_playground(1))
    assert controller.timeline.replicas == {}
    assert controller.timeline.decisions == {}
