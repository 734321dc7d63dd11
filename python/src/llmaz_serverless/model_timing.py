"""How long a model replica works on one request: the one timing vocabulary of the package.

Three users hold it under the same names:
- the emulator (`llmaz-serverless sim`): its `ttft`, `prefill_per_token`, `itl`,
  `cold_requests` and `cold_factor` settings (emulator/settings.py; flags, env vars and
  runtime.yaml keys keep those names) are one ModelTiming (EmulatorSettings.timing);
- the local load-test stack (loadtest/localstack.py): the timing it starts its emulated
  replicas with;
- the planner (plan/settings.py Service): the service time it simulates a trace with, and for
  `plan --against` a local run's recorded timing.

Each user keeps its own defaults (a warm vLLM-like model for the planner, a quick emulator for
tests, a slower one for local load tests), so the fields have none but the "no cold slowdown" pair.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelTiming:
    """Seconds a replica spends on a request, and how much slower the first ones after a load are."""

    # Time to first token of a warm replica, before the prefill cost.
    ttft: float
    # Extra time to first token per prompt token (prefill).
    prefill_per_token: float
    # Time between output tokens (inter-token latency).
    itl: float
    # The first `cold_requests` requests a replica serves after its load take `cold_factor` times
    # longer: what warmup exists to absorb.
    cold_requests: int = 0
    cold_factor: float = 1.0

    def __post_init__(self) -> None:
        if self.cold_requests < 0:
            raise ValueError(f"cold_requests: {self.cold_requests} is below 0; set 0 for no slow requests")
        if self.cold_factor < 1.0:
            raise ValueError(f"cold_factor: {self.cold_factor} is below 1; set 1.0 for no slowdown")

    def first_token(self, prompt_tokens: int) -> float:
        """A warm replica's time to the first token of a prompt of that many tokens."""
        return self.ttft + self.prefill_per_token * prompt_tokens

    def seconds(self, prompt_tokens: int, output_tokens: int) -> float:
        """A warm replica's time for one request of that many prompt and output tokens."""
        return self.first_token(prompt_tokens) + self.itl * output_tokens

    def slowdown(self, nth: int) -> float:
        """Factor on the time of the `nth` request (from 1) a replica serves after its load; 0 or
        less: a request before any that warms the replica, so still cold when there are cold ones."""
        return self.cold_factor if self.cold_requests and nth <= self.cold_requests else 1.0
