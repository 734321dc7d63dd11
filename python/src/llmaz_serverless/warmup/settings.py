"""The `warmup:` section of runtime.yaml: knobs of the warmup controller and the install hook.

The chart renders exactly these keys (camelCase) under `warmup:`. What to warm a
model with (API, prompt lengths, deadline) is per model and lives in the shared
`models[].warmup` (`llmaz_serverless.config.ModelWarmup`); this section holds what
is common to every model: ports, retries, the admission webhook, the timeline and
the hook. Its keys have the four forms of llmaz_serverless.settings
(`warmup.hook.attempts`, `--hook-attempts`, `LLMAZ_SERVERLESS_WARMUP__HOOK__ATTEMPTS`,
`WarmupSettings.load(runtime, hook={"attempts": 3})`).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from llmaz_serverless.backoff import Backoff, Jitter
from llmaz_serverless.config import CamelModel, Duration
from llmaz_serverless.settings import ComponentSettings

SECTION = "warmup"


class WarmupBackoff(Backoff):
    # First retry delay of a warmup request (`base` before; chart README, "Upgrading").
    initial: Duration = 0.5
    # Ceiling of one retry delay, and of a model server's Retry-After.
    max: Duration = 10.0
    # Full jitter: a random delay between 0 and the schedule, so the replicas of a
    # scale-up retrying against one waking model spread out.
    jitter: Jitter = 1.0


class WebhookSettings(CamelModel):
    # Serve the mutating admission webhook that adds the readiness gate to model
    # pods. The chart renders the MutatingWebhookConfiguration (the controller has
    # no RBAC to manage it) pointing at this port with the path `/gate-readiness-until-warm`.
    enabled: bool = True
    # HTTPS port of the webhook server inside the controller pod.
    port: int = Field(default=9443, ge=1, le=65535)
    # Serving certificate and key (PEM) mounted from the chart's TLS Secret; the
    # server re-reads them when the files change (renewals need no restart).
    cert_file: str = "/etc/llmaz-serverless/webhook/tls.crt"
    key_file: str = "/etc/llmaz-serverless/webhook/tls.key"


class TimelineSettings(CamelModel):
    # A pod created within this long after a scale-up was seen on its Playground is
    # attributed to that scale-up; older decisions are ignored and the pod's own
    # creation time is the start of its timeline (trigger "pod_replaced").
    decision_max_age: Duration = 1800.0
    # Counter on the model server's /metrics that rises by one per first token
    # served, per llmaz backend name. After warmup the controller polls it on the
    # pod to see the first user token; a backend missing here has no such phase.
    first_token_metrics: dict[str, str] = Field(
        default_factory=lambda: {
            "vllm": "vllm:time_to_first_token_seconds_count",
            "sglang": "sglang:time_to_first_token_seconds_count",
        }
    )
    # Path of the model server's Prometheus metrics on the pod.
    metrics_path: str = "/metrics"
    # How often the pod's metrics are read while waiting for the first user token.
    first_token_poll_interval: Duration = 2.0
    # Stop waiting for a first user token this long after the pod turned Ready
    # (a woken model that gets no traffic records no such phase).
    first_token_window: Duration = 600.0


class HookSettings(CamelModel):
    # Models (their OpenAI `name`) the post-install/upgrade hook pre-warms when
    # `warmup.onInstall` is true; empty: every model whose warmup is enabled.
    models: list[str] = Field(default_factory=list)
    # Attempts per warmup request through the interceptor. A request to a model at
    # zero waits for a whole cold start first (the model's timeouts.coldStart).
    attempts: int = Field(default=5, ge=1)
    # Exit non-zero (failing the Helm release) when a model could not be warmed;
    # by default the hook reports the failure and exits 0, since an unwarmed model
    # still serves.
    fail_release: bool = False


class WarmupSettings(ComponentSettings):
    COMPONENT: ClassVar[str] = SECTION

    # Let the Helm post-install/post-upgrade hook wake and pre-warm models. Off by
    # default: a fresh install starts no model pod (nothing is paid for idle GPUs).
    on_install: bool = False
    # Port of the model server on the pod (llmaz serves on 8080, port name `http`).
    model_port: int = Field(default=8080, ge=1, le=65535)
    # Health path polled on the pod before warming, per llmaz backend name; a
    # backend missing here is warmed without a health check.
    health_paths: dict[str, str] = Field(
        default_factory=lambda: {
            "vllm": "/health",
            "sglang": "/health",
            "llamacpp": "/health",
            "tgi": "/health",
            "ollama": "/api/version",
        }
    )
    # Attempts per warmup request sent directly to a pod (connection errors,
    # 429 and 5xx are retried, within the model's warmup deadline).
    attempts: int = Field(default=4, ge=1)
    # Waits between those attempts (and between health polls).
    backoff: WarmupBackoff = Field(default_factory=WarmupBackoff)
    # Pods warmed at the same time by one controller (each warmup is sequential).
    max_concurrent_warmups: int = Field(default=8, ge=1)
    # Port of the controller's /metrics (Prometheus) and /healthz.
    metrics_port: int = Field(default=9090, ge=1, le=65535)
    # Address the metrics and webhook servers listen on ("::" for IPv6-only clusters).
    listen_address: str = "0.0.0.0"
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    timeline: TimelineSettings = Field(default_factory=TimelineSettings)
    hook: HookSettings = Field(default_factory=HookSettings)
