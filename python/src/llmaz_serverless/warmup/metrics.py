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
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

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
        self.phase_seconds = Histogram(
            "llmaz_serverless_cold_start_phase_seconds",
            "Seconds from the scale-up decision (or pod creation) to each cold-start phase of a replica.",
            ["model", "trigger", "phase"],
            buckets=COLD_START_BUCKETS,
            registry=self.registry,
        )
        self.scale_ups = Counter(
            "llmaz_serverless_scale_ups",
            "Scale-ups seen on a Playground's spec.replicas (trigger from_zero or scale_out).",
            ["model", "trigger"],
            registry=self.registry,
        )
        self.warmup_seconds = Histogram(
            "llmaz_serverless_warmup_duration_seconds",
            "Seconds one replica's warmup took, from its containers being ready to the gate opening.",
            ["model", "outcome"],
            buckets=COLD_START_BUCKETS,
            registry=self.registry,
        )
        self.warmup_requests = Counter(
            "llmaz_serverless_warmup_requests",
            "Warmup requests sent directly to model pods, by outcome (ok or failed).",
            ["model", "outcome"],
            registry=self.registry,
        )
        self.warmup_first_token = Histogram(
            "llmaz_serverless_warmup_first_token_seconds",
            "Time to first token of each successful warmup request, by prompt length asked for.",
            ["model", "prompt_tokens"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.gates_opened = Counter(
            "llmaz_serverless_readiness_gates_opened",
            "Readiness gates set True, by reason (Warmed, WarmupTimedOut, WarmupDisabled, NotManaged).",
            ["model", "reason"],
            registry=self.registry,
        )
        self.warmups_in_progress = Gauge(
            "llmaz_serverless_warmups_in_progress",
            "Replicas being warmed right now.",
            ["model"],
            registry=self.registry,
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
