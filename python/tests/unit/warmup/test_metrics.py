"""The controller's /metrics over real HTTP on loopback, parsed as Prometheus text."""

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from llmaz_serverless.launcher import free_port
from llmaz_serverless.warmup.metrics import PHASES, WarmupMetrics, start_metrics_server


async def test_metrics_endpoint_serves_llmaz_serverless_families_with_observations():
    metrics = WarmupMetrics()
    metrics.phase_seconds.labels("llama", "from_zero", "ready").observe(75)
    metrics.gates_opened.labels("llama", "Warmed").inc()
    port = free_port()
    runner = await start_metrics_server(metrics, "127.0.0.1", port)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200
                assert resp.content_type == "text/plain"
                text = await resp.text()
            async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
    finally:
        await runner.cleanup()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert all(name.startswith("llmaz_serverless_") for name in families)
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for s in families["llmaz_serverless_cold_start_phase_seconds"].samples
    }
    labels = {"model": "llama", "phase": "ready", "trigger": "from_zero"}

    def value(name: str, **extra: str) -> float:
        return samples[
            (f"llmaz_serverless_cold_start_phase_seconds_{name}", frozenset({**labels, **extra}.items()))
        ]

    assert value("count") == 1.0
    assert value("bucket", le="90.0") == 1.0
    assert value("bucket", le="60.0") == 0.0
    opened = families["llmaz_serverless_readiness_gates_opened"].samples[0]
    assert (opened.name, opened.value) == ("llmaz_serverless_readiness_gates_opened_total", 1.0)


def test_phases_are_in_cold_start_order():
    assert (
        PHASES.index("scheduled")
        < PHASES.index("server_healthy")
        < PHASES.index("warmed")
        < PHASES.index("ready")
        < PHASES.index("first_user_token")
    )
