"""What the simulator needs to know about one model: its scaling settings and how long it works."""

from __future__ import annotations

from dataclasses import dataclass

from llmaz_serverless.events.patterns import Pattern
from llmaz_serverless.model_timing import ModelTiming


@dataclass(frozen=True)
class Policy:
    """One HPA scaling policy: `Pods` or `Percent`, `value` per `period` seconds."""

    kind: str
    value: float
    period: float


@dataclass(frozen=True)
class Direction:
    """HPA behavior of one direction: stabilization window, policies and how policies combine."""

    window: float
    policies: tuple[Policy, ...]
    # Max (the default): the policy allowing the largest change wins; Min: the smallest; Disabled.
    select: str = "Max"


# Kubernetes' defaults when a ScaledObject sets no behavior (see docs/design/planner.md, "HPA").
DEFAULT_UP = Direction(0.0, (Policy("Percent", 100, 15), Policy("Pods", 4, 15)))
DEFAULT_DOWN = Direction(300.0, (Policy("Percent", 100, 15),))


@dataclass(frozen=True)
class CronWindow:
    """A KEDA cron trigger: `desired` replicas between `start` and `end` (cron, in `timezone`)."""

    name: str
    start: str
    end: str
    timezone: str = "Etc/UTC"
    desired: int = 1


@dataclass(frozen=True)
class Scaling:
    """The ScaledObject, InterceptorRoute and HPA settings of one model (KEDA controller)."""

    min_replicas: int = 0
    max_replicas: int = 2
    idle_replicas: int | None = None
    polling_interval: float = 15.0
    cooldown: float = 900.0
    # In-flight requests per pod (InterceptorRoute scalingMetric.concurrency.targetValue).
    concurrency_target: float = 8.0
    # Requests per second per pod over `rate_window` (scalingMetric.requestRate); None: off.
    rate_target: float | None = None
    rate_window: float = 60.0
    up: Direction = DEFAULT_UP
    down: Direction = DEFAULT_DOWN
    cron: tuple[CronWindow, ...] = ()
    # The interceptor's hold (timeouts.coldStart): a request waiting longer gets a 504.
    hold_timeout: float = 600.0


# The planner's service time when none is given: a warm vLLM-like replica. No cold slowdown: the
# cluster loop does not track which replica serves a request; only `plan --against` a local run
# sets one (the emulator's cold_requests/cold_factor that run used).
PLAN_TIMING = ModelTiming(ttft=0.05, prefill_per_token=0.0002, itl=0.02)


@dataclass(frozen=True)
class Service:
    """How long one request keeps the model busy, and how long a replica takes to become Ready."""

    # Seconds from a replica's creation to Ready (pull, load, warmup): the cold start.
    cold_start: float
    timing: ModelTiming = PLAN_TIMING
    # Used for requests whose trace row has no token counts.
    default_prompt_tokens: int = 512
    default_output_tokens: int = 128

    def seconds(self, prompt_tokens: int | None, output_tokens: int | None) -> float:
        p = self.default_prompt_tokens if prompt_tokens is None else prompt_tokens
        o = self.default_output_tokens if output_tokens is None else output_tokens
        return self.timing.seconds(p, o)


@dataclass(frozen=True)
class EventPrewarm:
    """A `prewarm` action of an enabled event rule: matching events keep `models` at >= `replicas`
    for `window` seconds (the chart's metrics-api trigger on GET /v1/prewarm/<model>)."""

    rule: str
    pattern: Pattern
    models: tuple[str, ...]
    replicas: int
    window: float
