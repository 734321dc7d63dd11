"""Prometheus metrics of the warmup controller, served on its own /metrics.

Names start with `llmaz_serverless_`. The cold-start histogram measures every
phase from the same origin (the scale-up decision seen on the Playground, or the
pod's creation when no decision was seen), so one query shows where a cold
start's time goes:

    histogram_quantile(0.9, sum by (le, phase) (
      rate(llmaz_serverless_cold_start_phase_seconds_bucket{model="llama"}[1d])))
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from llmaz_serverless.metric_set import MetricSet

# In the order a cold start goes through them.
PHASES = (
    "pod_created",
    "scheduled",
    "containers_started",
    "server_healthy",
    "warmed",
    "ready",
    "first_user_token",
)
# Cold starts run from seconds (small model, cached image) to many minutes (big model, cold disk).
COLD_START_BUCKETS = (
    1,
    2,
    5,
    10,
    15,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    240,
    300,
    450,
    600,
    900,
    1200,
    1800,
    3600,
)
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)


class WarmupMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        m = MetricSet(self.registry, "llmaz_serverless_")
        self.phase_seconds = m.histogram(
            "cold_start_phase_seconds",
            "Seconds from the scale-up decision (or pod creation) to each cold-start phase of a replica.",
            ["model", "trigger", "phase"],
            buckets=COLD_START_BUCKETS,
        )
        self.scale_ups = m.counter(
            "scale_ups",
            "Scale-ups seen on a Playground's spec.replicas (trigger from_zero or scale_out).",
            ["model", "trigger"],
        )
        self.warmup_seconds = m.histogram(
            "warmup_duration_seconds",
            "Seconds one replica's warmup took, from its containers being ready to the gate opening.",
            ["model", "outcome"],
            buckets=COLD_START_BUCKETS,
        )
        self.warmup_requests = m.counter(
            "warmup_requests",
            "Warmup requests sent directly to model pods, by outcome (ok or failed).",
            ["model", "outcome"],
        )
        self.warmup_first_token = m.histogram(
            "warmup_first_token_seconds",
            "Time to first token of each successful warmup request, by prompt length asked for.",
            ["model", "prompt_tokens"],
            buckets=REQUEST_BUCKETS,
        )
        self.gates_opened = m.counter(
            "readiness_gates_opened",
            "Readiness gates set True, by reason (Warmed, WarmupTimedOut, WarmupDisabled, NotManaged).",
            ["model", "reason"],
        )
        self.warmups_in_progress = m.gauge(
            "warmups_in_progress", "Replicas being warmed right now.", ["model"]
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_app(metrics: WarmupMetrics) -> web.Application:
    async def serve_metrics(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/metrics", serve_metrics)
    app.router.add_get("/healthz", healthz)
    return app


async def start_metrics_server(metrics: WarmupMetrics, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(metrics_app(metrics), handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
