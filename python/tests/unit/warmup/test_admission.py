"""The mutating handler's output, called directly (the HTTPS path through kopf's webhook
server is in tests/integration/warmup/test_admission_webhook.py)."""

import kopf

from llmaz_serverless.warmup.admission import (
    WEBHOOK_ID,
    gate_readiness_until_warm,
    readiness_gates_with_warmup,
    register,
)
from llmaz_serverless.warmup.pods import GATE_CONDITION
from llmaz_serverless_testing.warmup import make_pod

GATE = {"conditionType": GATE_CONDITION}


def new_pod(**kwargs):
    """A pod as admitted on CREATE: no status yet, no gate yet."""
    pod = make_pod("created", gated=False, **kwargs)
    pod.pop("status")
    return pod


def test_gate_added_to_leader_pod_of_configured_model(config):
    assert readiness_gates_with_warmup(new_pod(), config) == [GATE]


def test_existing_gates_are_kept_and_ours_appended(config):
    pod = new_pod()
    pod["spec"]["readinessGates"] = [{"conditionType": "example.com/other"}]
    assert readiness_gates_with_warmup(pod, config) == [{"conditionType": "example.com/other"}, GATE]


def test_no_gate_when_already_present_or_for_other_pods(config):
    gated = new_pod()
    gated["spec"]["readinessGates"] = [GATE]
    assert readiness_gates_with_warmup(gated, config) is None
    assert readiness_gates_with_warmup(new_pod(worker_index="1"), config) is None
    assert readiness_gates_with_warmup(new_pod(namespace="team-b"), config) is None
    assert readiness_gates_with_warmup(new_pod(playground="qwen"), config) is None  # warmup disabled


def test_namespace_from_request_is_used_when_pod_has_none(config):
    pod = new_pod()
    del pod["metadata"]["namespace"]
    assert readiness_gates_with_warmup(pod, config, namespace="models") == [GATE]


def test_handler_writes_gate_into_kopf_patch_as_json_patch_add(controller):
    pod = new_pod()
    patch = kopf.Patch(body=kopf.Body(pod))
    gate_readiness_until_warm(
        body=kopf.Body(pod), patch=patch, memo=kopf.Memo(warmup=controller), namespace="models"
    )
    assert patch.as_json_patch() == [{"op": "add", "path": "/spec/readinessGates", "value": [GATE]}]


def test_handler_leaves_patch_empty_for_unrelated_pod(controller):
    pod = new_pod(namespace="team-b")
    patch = kopf.Patch(body=kopf.Body(pod))
    gate_readiness_until_warm(
        body=kopf.Body(pod), patch=patch, memo=kopf.Memo(warmup=controller), namespace="team-b"
    )
    assert patch.as_json_patch() == []


def test_webhook_is_create_only_ignore_failures_and_named_for_its_path():
    registry = kopf.OperatorRegistry()
    register(registry)
    (handler,) = registry._webhooks.get_all_handlers()
    assert handler.id == WEBHOOK_ID == "gate-readiness-until-warm"
    assert handler.operations == ["CREATE"]
    assert handler.ignore_failures is True
    assert handler.side_effects is False
