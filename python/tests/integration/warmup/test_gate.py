"""The controller's pod path end to end, minus Kubernetes: pod events shaped as the API
sends them -> warmup of a real model-server process at the pod's address -> the gate
condition and Events it would write (recorded), the cold-start timeline, /metrics."""

from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.launcher import free_port
from llmaz_serverless.warmup.client import RetryPolicy, WarmupClient
from llmaz_serverless.warmup.controller import WarmupController
from llmaz_serverless.warmup.metrics import start_metrics_server
from llmaz_serverless.warmup.pods import GATE_CONDITION
from llmaz_serverless.warmup.settings import WarmupBackoff
from llmaz_serverless_testing.warmup import RecordingKubeApi, apply_status_patch, make_playground, make_pod

pytestmark = pytest.mark.integration

MODEL = "llama-3-8b"


def config_for(sim_port: int, upstream: str, **warmup: object) -> RuntimeConfig:
    return RuntimeConfig.model_validate(
        {
            "models": [
                {
                    "name": MODEL,
                    "playground": "llama",
                    "namespace": "models",
                    "backend": "vllm",
                    "upstream": upstream,
                    "warmup": {
                        "deadline": "15s",
                        "prompts": [
                            {"promptTokens": 16, "maxTokens": 8},
                            {"promptTokens": 512, "maxTokens": 16},
                            {"promptTokens": 1024, "maxTokens": 4},
                        ],
                        **warmup,
                    },
                }
            ],
            "warmup": {
                "modelPort": sim_port,
                "backoff": {"initial": "50ms", "max": "300ms"},
                "timeline": {"firstTokenPollInterval": "100ms", "firstTokenWindow": "20s"},
            },
        }
    )


async def state(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/emulator/state") as resp:
        return await resp.json()


async def metric_samples(port: int) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as resp:
        text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_replica_is_warmed_at_its_pod_then_gate_opens_and_timeline_completes(sim):
    server = sim(startup_delay=0.5, fail_first=1, fail_status=503, ttft=0.02)
    api = RecordingKubeApi()
    ctl = WarmupController.build(
        config_for(server.port, upstream="http://127.0.0.1:9"),
        api,
        client=WarmupClient(RetryPolicy(attempts=4, backoff=WarmupBackoff(initial=0.05, max=0.3))),
        instance="ctl-0",
    )
    metrics_port = free_port()
    runner = await start_metrics_server(ctl.metrics, "127.0.0.1", metrics_port)
    try:
        await ctl.on_playground_event(None, make_playground(0))
        await ctl.on_playground_event("MODIFIED", make_playground(1))
        # The pod the scale-up creates, stamped by the API in whole seconds.
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)

        def pod(stage: str) -> dict:
            return make_pod(stage, pod_ip="127.0.0.1", created=created, offsets=(0, 1, 2, 3))

        await ctl.on_pod_event("ADDED", pod("created"))
        await ctl.on_pod_event("MODIFIED", pod("started"))
        assert api.patches == []  # containers not ready: nothing sent, gate closed
        healthy = pod("healthy")
        assert await ctl.on_pod_event("MODIFIED", healthy) == "warming"
        outcome = await asyncio.wait_for(next(iter(ctl.gate.tasks.values())), 30)

        assert outcome.reason == "Warmed"
        assert outcome.report.ok and outcome.report.results[0].attempts == 2  # first call failed, retried
        ((ns, name, patch),) = api.patches
        (cond,) = patch["status"]["conditions"]
        assert (ns, name, cond["type"], cond["status"], cond["reason"]) == (
            "models",
            "llama-0",
            GATE_CONDITION,
            "True",
            "Warmed",
        )
        assert cond["message"].startswith("3/3 warmup requests ok")
        sim_state = await state(server.url)
        assert (sim_state["completedTotal"], sim_state["failedTotal"]) == (3, 1)

        # The watch shows the condition, the kubelet turns the pod Ready.
        ready = apply_status_patch(healthy, patch)
        assert await ctl.on_pod_event("MODIFIED", ready) == "already-open"
        # A user request now reaches the pod: the controller sees its first token on /metrics.
        async with aiohttp.ClientSession() as session:
            body = {"model": MODEL, "prompt": "hello", "max_tokens": 2}
            async with session.post(f"{server.url}/v1/completions", json=body) as resp:
                assert resp.status == 200
        for _ in range(100):
            replica = next(iter(ctl.timeline.replicas.values()))
            if "first_user_token" in replica.phases:
                break
            await asyncio.sleep(0.05)
        assert list(replica.phases) == [
            "pod_created",
            "scheduled",
            "containers_started",
            "server_healthy",
            "warmed",
            "ready",
            "first_user_token",
        ]
        playground_reasons = api.reasons("Playground")
        assert playground_reasons[0] == "ScaleUpSeen"
        assert playground_reasons[-3:] == ["ReplicaReady", "ColdStartTimeline", "FirstUserToken"]
        assert api.reasons("Pod") == ["Warmed"]

        samples = await metric_samples(metrics_port)
        ok_key = frozenset({"model": MODEL, "outcome": "ok"}.items())
        assert samples[("llmaz_serverless_warmup_requests_total", ok_key)] == 3
        gate_key = frozenset({"model": MODEL, "reason": "Warmed"}.items())
        assert samples[("llmaz_serverless_readiness_gates_opened_total", gate_key)] == 1
        token_key = frozenset({"model": MODEL, "trigger": "from_zero", "phase": "first_user_token"}.items())
        assert samples[("llmaz_serverless_cold_start_phase_seconds_count", token_key)] == 1
        ttft_key = frozenset({"model": MODEL, "prompt_tokens": "512"}.items())
        assert samples[("llmaz_serverless_warmup_first_token_seconds_count", ttft_key)] == 1
    finally:
        await runner.cleanup()
        await ctl.close()


async def test_controller_never_sends_a_request_to_a_model_at_zero(sim):
    """Playground at zero, scale-up seen, pod not yet ready: the interceptor (upstream) and
    the model server get nothing from the controller."""
    interceptor = sim(ttft=0.01)
    api = RecordingKubeApi()
    ctl = WarmupController.build(
        config_for(interceptor.port, upstream=interceptor.url), api, instance="ctl-0"
    )
    try:
        await ctl.on_playground_event(None, make_playground(0))
        await ctl.on_playground_event("MODIFIED", make_playground(0))
        await ctl.on_playground_event("MODIFIED", make_playground(1))
        for stage in ("created", "scheduled", "started"):
            assert await ctl.on_pod_event("MODIFIED", make_pod(stage, pod_ip="127.0.0.1")) == "waiting"
        await asyncio.sleep(0.3)
        assert (await state(interceptor.url))["requestsTotal"] == 0
        assert api.patches == []
    finally:
        await ctl.close()


async def test_warmup_deadline_opens_gate_with_warning_when_server_hangs(sim):
    server = sim(ttft=60)
    api = RecordingKubeApi()
    ctl = WarmupController.build(
        config_for(server.port, upstream="http://127.0.0.1:9", deadline="1s"),
        api,
        client=WarmupClient(RetryPolicy(attempts=2, backoff=WarmupBackoff(initial=0.05, max=0.2))),
        instance="ctl-0",
    )
    try:
        await ctl.on_pod_event("MODIFIED", make_pod("healthy", pod_ip="127.0.0.1"))
        outcome = await asyncio.wait_for(next(iter(ctl.gate.tasks.values())), 20)
        assert outcome.reason == "WarmupTimedOut"
        assert "deadline reached" in outcome.message
        ((_, _, patch),) = api.patches
        assert patch["status"]["conditions"][0]["status"] == "True"
        assert [e["reason"] for _, e in api.events if e["type"] == "Warning"] == ["WarmupTimedOut"] * 2
    finally:
        await ctl.close()
