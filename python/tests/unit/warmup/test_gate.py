"""Readiness-gate decisions, with a recording API. The warm path against a real model
server is in tests/integration/warmup/test_gate.py; here nothing listens on the pod's
port, which is enough for every decision and for the timed-out path."""

import asyncio

import pytest

from llmaz_serverless.warmup.client import RetryPolicy, WarmupClient
from llmaz_serverless.warmup.controller import WarmupController
from llmaz_serverless.warmup.gate import GateOutcome
from llmaz_serverless.warmup.kube import KubeApiError
from llmaz_serverless.warmup.pods import GATE_CONDITION
from llmaz_serverless.warmup.settings import WarmupBackoff
from llmaz_serverless_testing.warmup import apply_status_patch, make_pod


def gate_conditions(api):
    return [
        (name, c["status"], c["reason"])
        for _, name, patch in api.patches
        for c in patch["status"]["conditions"]
        if c["type"] == GATE_CONDITION
    ]


@pytest.fixture
async def fast_controller(make_config, api):
    # Nothing listens on 127.0.0.1:9, so a warmup can only time out; keep its deadline short.
    client = WarmupClient(RetryPolicy(attempts=2, backoff=WarmupBackoff(initial=0.01, max=0.05)))
    ctl = WarmupController.build(make_config(deadline="300ms"), api, client=client, instance="ctl-0")
    yield ctl
    await ctl.close()


async def test_pod_without_gate_or_worker_pod_is_left_alone(controller, api):
    assert await controller.on_pod_event(None, make_pod(gated=False)) == "not-gated"
    assert await controller.on_pod_event(None, make_pod(worker_index="1")) == "not-gated"
    assert api.patches == []


async def test_gate_waits_while_containers_are_not_ready(controller, api):
    for stage in ("created", "scheduled", "started"):
        assert await controller.on_pod_event("MODIFIED", make_pod(stage)) == "waiting"
    assert api.patches == []
    assert controller.gate.tasks == {}


async def test_open_gate_is_not_warmed_again(controller, api):
    assert await controller.on_pod_event(None, make_pod("warmed")) == "already-open"
    assert api.patches == []


async def test_gated_pod_of_unknown_model_is_opened_at_once_as_not_managed(controller, api):
    pod = make_pod("created", playground="removed-model")
    assert await controller.on_pod_event(None, pod) == "opened"
    assert gate_conditions(api) == [("removed-model-0", "True", "NotManaged")]
    assert api.reasons("Pod") == ["NotManaged"]


async def test_gated_pod_of_model_with_warmup_disabled_is_opened_without_requests(controller, api):
    pod = make_pod("created", playground="qwen", model_name="qwen-0.5b")
    assert await controller.on_pod_event(None, pod) == "opened"
    assert gate_conditions(api) == [("qwen-0", "True", "WarmupDisabled")]
    assert (
        controller.metrics.registry.get_sample_value(
            "llmaz_serverless_readiness_gates_opened_total",
            {"model": "qwen-0.5b", "reason": "WarmupDisabled"},
        )
        == 1.0
    )


async def test_unreachable_server_opens_gate_anyway_as_timed_out_with_warnings(fast_controller, api):
    pod = make_pod("healthy", pod_ip="127.0.0.1")
    assert await fast_controller.on_pod_event("MODIFIED", pod) == "warming"
    # A second event while warming does not start a second warmup.
    assert await fast_controller.on_pod_event("MODIFIED", pod) == "warming"
    (task,) = fast_controller.gate.tasks.values()
    outcome = await asyncio.wait_for(task, timeout=10)
    assert outcome.reason == "WarmupTimedOut"
    assert gate_conditions(api) == [("llama-0", "True", "WarmupTimedOut")]
    warnings = [(e["involvedObject"]["kind"], e["reason"]) for _, e in api.events if e["type"] == "Warning"]
    assert warnings == [("Pod", "WarmupTimedOut"), ("Playground", "WarmupTimedOut")]
    pod_warning = next(e for _, e in api.events if e["type"] == "Warning")
    assert "127.0.0.1:9/health did not answer 200" in pod_warning["message"]
    # The watch then shows the condition; the pod turns Ready and is not warmed again.
    opened = apply_status_patch(pod, api.patches[0][2])
    assert await fast_controller.on_pod_event("MODIFIED", opened) == "already-open"


async def test_gate_open_is_retried_on_api_errors(fast_controller, api):
    api.failures = [KubeApiError("etcd timeout", 500), KubeApiError("throttled", 429)]
    pod = make_pod("created", playground="qwen", model_name="qwen-0.5b")
    assert await fast_controller.on_pod_event(None, pod) == "opened"
    assert gate_conditions(api) == [("qwen-0", "True", "WarmupDisabled")]


async def test_gate_open_stops_when_pod_is_gone(fast_controller, api):
    api.failures = [KubeApiError('pods "qwen-0" not found', 404)]
    pod = make_pod("created", playground="qwen", model_name="qwen-0.5b")
    assert await fast_controller.gate.open(pod, None, GateOutcome("WarmupDisabled", "off")) is False
    assert api.patches == [] and api.events == []


async def test_deleting_pod_cancels_its_warmup(make_config, api):
    client = WarmupClient(RetryPolicy(attempts=2, backoff=WarmupBackoff(initial=0.01, max=0.05)))
    ctl = WarmupController.build(make_config(deadline="30s"), api, client=client, instance="ctl-0")
    pod = make_pod("healthy", pod_ip="127.0.0.1")
    assert await ctl.on_pod_event("MODIFIED", pod) == "warming"
    (task,) = ctl.gate.tasks.values()
    await asyncio.sleep(0.05)
    assert await ctl.on_pod_event("DELETED", pod) == "forgotten"
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ctl.gate.tasks == {}
    assert api.patches == []
    await ctl.close()


async def test_restarted_container_closes_gate_so_replica_is_warmed_again(controller, api):
    warmed = make_pod("warmed", pod_ip="127.0.0.1")
    assert await controller.on_pod_event(None, warmed) == "already-open"
    restarting = make_pod("started", pod_ip="127.0.0.1", restarts=1)
    gate = {**next(c for c in warmed["status"]["conditions"] if c["type"] == GATE_CONDITION)}
    restarting["status"]["conditions"].append(gate)  # still True from the first warmup
    restarting["spec"]["readinessGates"] = warmed["spec"]["readinessGates"]
    assert await controller.on_pod_event("MODIFIED", restarting) == "closed"
    assert gate_conditions(api) == [("llama-0", "False", "ContainerRestarted")]
    closed = apply_status_patch(restarting, api.patches[0][2])
    assert await controller.on_pod_event("MODIFIED", closed) == "waiting"
    # Same restart count again: nothing more to close.
    assert await controller.on_pod_event("MODIFIED", restarting) == "already-open"
    assert len(api.patches) == 1


async def test_restart_counts_on_first_sight_are_not_taken_for_a_restart(controller, api):
    assert await controller.on_pod_event(None, make_pod("warmed", restarts=3)) == "already-open"
    assert api.patches == []
