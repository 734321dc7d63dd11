"""Knobs of the model-server emulator (`llmaz-serverless sim`, `EmulatorServer`).

The emulator stands in for an llmaz model server (vLLM's OpenAI server) in
tests, `make up` and local load tests. Every field below has the four forms of
llmaz_serverless.settings: a key of `emulator.defaults` in a runtime.yaml
(`startupDelay`; `llmaz-serverless sim --config`, and `llmaz-serverless up`
for every emulator it starts), the env var `LLMAZ_SERVERLESS_EMULATOR__STARTUP_DELAY`,
the flag `--startup-delay` of `llmaz-serverless sim`, and
`EmulatorSettings.load(startup_delay=30)` in code.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from llmaz_serverless.config import CamelModel, Duration, OptionalDuration
from llmaz_serverless.model_timing import ModelTiming
from llmaz_serverless.settings import ComponentSettings


class EmulatorSettings(ComponentSettings):
    COMPONENT: ClassVar[str] = "emulator"
    # The `emulator:` section itself holds defaults and per-model entries (EmulatorSection).
    SECTION: ClassVar[str] = "emulator.defaults"

    # OpenAI model id the server answers to; requests naming another model get 404
    # like vLLM (`The model ... does not exist`).
    model: str = "emulated-model"
    # Listen address; port 0 picks a free port (read it back from EmulatorServer.url).
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Seconds from process start (or from a wake-up at zero) until weights are
    # "loaded": the port is open but /health and requests answer 503, like a real
    # server loading weights.
    startup_delay: Duration = 0.0
    # While loading, hold requests until loaded instead of answering 503: what
    # the KEDA HTTP interceptor does for a model at zero.
    hold_while_loading: bool = False
    # Emulated scale to zero: after this long without requests the server drops
    # to zero replicas and the next request pays `startup_delay` again
    # (None: never). Lets a local stack show cold starts without a cluster.
    scale_to_zero_after: OptionalDuration = None
    # Begin at zero replicas (no load until the first request) instead of loading at start.
    start_at_zero: bool = False
    # Time to first token (seconds) for a warm server, before prefill cost.
    ttft: Duration = 0.02
    # Extra time to first token per prompt token (prefill), seconds.
    prefill_per_token: Duration = 0.0
    # Delay between output tokens (seconds).
    itl: Duration = 0.01
    # The first `cold_requests` requests after each load are slower by
    # `cold_factor` (TTFT and inter-token): what warmup exists to absorb.
    cold_requests: int = Field(default=0, ge=0)
    cold_factor: float = Field(default=3.0, ge=1.0)
    # Requests generating at once; more wait in a queue (vllm:num_requests_waiting).
    max_concurrency: int = Field(default=256, ge=1)
    # Output length when the request sets neither max_tokens nor max_completion_tokens.
    default_max_tokens: int = Field(default=16, ge=1)
    # Context length (vLLM's --max-model-len): a request whose prompt plus max_tokens
    # exceeds it is answered 400 like vLLM, instead of generating (and holding in
    # memory) an output of any length a client asks for. 128K tokens: Llama 3.1's context.
    max_model_len: int = Field(default=131072, ge=1)
    # KV-cache capacity in tokens; usage = tokens of running requests / capacity.
    kv_cache_tokens: int = Field(default=65536, ge=1)
    # Failure injection: fail the first N generation requests after each load...
    fail_first: int = Field(default=0, ge=0)
    # ...and then this fraction of the rest (0.0-1.0), drawn from `seed`...
    fail_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # ...with this HTTP status.
    fail_status: int = Field(default=500, ge=400, le=599)
    # Seed of the failure draws and of sampled (temperature > 0) text without a
    # request `seed`; temperature 0 output depends only on the model and the prompt.
    seed: int = 0

    @property
    def timing(self) -> ModelTiming:
        """ttft, prefill_per_token, itl, cold_requests and cold_factor as the package's one timing type."""
        return ModelTiming(self.ttft, self.prefill_per_token, self.itl, self.cold_requests, self.cold_factor)


class EmulatorSection(CamelModel):
    """The `emulator:` section of a local runtime.yaml, read by `llmaz-serverless up`.

    One emulator runs per model whose upstream is on loopback, listening on the
    upstream's port; `model`, `host` and `port` come from the model entry.
    """

    # Settings for every emulator (keys of EmulatorSettings, camelCase).
    defaults: dict[str, Any] = Field(default_factory=dict)
    # Per-model overrides by model name.
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def settings_for(self, model: str, host: str, port: int) -> EmulatorSettings:
        merged = {**self.defaults, **self.models.get(model, {}), "model": model, "host": host, "port": port}
        return EmulatorSettings.model_validate(merged)
