"""The kopf pod handler, called directly as kopf would call it."""

import kopf

from llmaz_serverless.warmup.pods import GATE_CONDITION
from llmaz_serverless.warmup.replicas import register, warm_new_replica
from llmaz_serverless_testing.warmup import make_pod


async def test_handler_hands_pod_events_to_gate_and_timeline(controller, api):
    memo = kopf.Memo(warmup=controller)
    pod = make_pod("created", playground="qwen", model_name="qwen-0.5b")
    await warm_new_replica(type=None, body=kopf.Body(pod), memo=memo, logger=None, event={})
    assert [c["type"] for _, _, p in api.patches for c in p["status"]["conditions"]] == [GATE_CONDITION]


async def test_handler_ignores_ungated_pods_of_other_models(controller, api):
    memo = kopf.Memo(warmup=controller)
    pod = make_pod("healthy", namespace="team-b", gated=False)
    await warm_new_replica(type=None, body=kopf.Body(pod), memo=memo)
    assert controller.gate.tasks == {}
    assert api.patches == [] and api.events == []


def test_handler_watches_pods_with_lws_name_label_only():
    registry = kopf.OperatorRegistry()
    register(registry)
    (handler,) = registry._watching.get_all_handlers()
    assert handler.fn is warm_new_replica
    assert handler.labels == {"leaderworkerset.sigs.k8s.io/name": kopf.PRESENT}
    assert (handler.selector.group, handler.selector.version, handler.selector.any_name) == ("", "v1", "pods")
