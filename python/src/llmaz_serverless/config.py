"""The runtime configuration file: the contract between the chart and our processes.

The chart renders one `runtime.yaml` (ConfigMap `<fullname>-runtime`) from its
values; the gateway, worker, warmup controller and hook all read it with
`--config`. Locally `manifests/local/runtime.yaml` plays the same role with
the upstream pointed at the emulator. Keys are camelCase like Helm values.

Top level: `models` (shared by every component, below), `redis`, and one
section per component (`gateway`, `worker`, `warmup`, `events`, ...). Each
component owns and parses its own section with `RuntimeConfig.section()`,
so adding a component never changes this module.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

REDIS_URL_ENV = "LLMAZ_SERVERLESS_REDIS_URL"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float | None:
    """Seconds from a number or a Go-style duration ("90s", "5m", "1h30m", "250ms").

    None, "" and "0" mean "no limit" where a field allows it and return None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '90s' or '5m', got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise ValueError(f"expected a duration such as '90s', '5m' or '1h30m', got {value!r}")
    return total


Duration = Annotated[float, BeforeValidator(parse_duration)]
OptionalDuration = Annotated[float | None, BeforeValidator(parse_duration)]


class CamelModel(BaseModel):
    """Base for config sections: camelCase keys in YAML, snake_case in Python, typos rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ModelTimeouts(CamelModel):
    # How long a request may wait for a model at zero to become Ready. Big models
    # take minutes to load (see UPSTREAM.md), so this is never seconds.
    cold_start: Duration = 600.0
    # Time to the first response byte once the request reached a Ready pod
    # (a long prompt's prefill on a busy server).
    response_header: Duration = 300.0
    # Whole-request deadline; None: no deadline, so long streams are never cut.
    request: OptionalDuration = None


class WarmupPrompt(CamelModel):
    # Approximate prompt length in tokens; the prompt text is generated to match.
    prompt_tokens: int = Field(default=16, ge=1)
    max_tokens: int = Field(default=16, ge=1)


class ModelWarmup(CamelModel):
    enabled: bool = True
    # "completions" -> /v1/completions, "chat" -> /v1/chat/completions
    api: str = "completions"
    prompts: list[WarmupPrompt] = Field(
        default_factory=lambda: [
            WarmupPrompt(prompt_tokens=16, max_tokens=16),
            WarmupPrompt(prompt_tokens=512, max_tokens=64),
            WarmupPrompt(prompt_tokens=2048, max_tokens=16),
        ]
    )
    deadline: Duration = 120.0


class ModelRuntime(CamelModel):
    # The OpenAI `model` id clients send.
    name: str
    # The llmaz Playground serving it, and its namespace.
    playground: str
    namespace: str = "default"
    # llmaz backend name (vllm, sglang, llamacpp, ollama, tgi).
    backend: str = "vllm"
    # Base URL requests go to: the KEDA HTTP interceptor proxy in a cluster,
    # the model server itself locally.
    upstream: str
    # Host header the interceptor routes on (None: keep the upstream's host).
    host: str | None = None
    # Extra headers set on every upstream request (the per-model route header).
    headers: dict[str, str] = Field(default_factory=dict)
    # Prefix prepended to the OpenAI path upstream ("" or "/llama").
    path_prefix: str = ""
    timeouts: ModelTimeouts = Field(default_factory=ModelTimeouts)
    # Another model's `name` to send the request to when this one times out cold.
    failover: str | None = None
    # Seconds a client is told to wait (Retry-After) when a cold start times out.
    retry_after: int = Field(default=30, ge=1)
    # Whether the gateway may cache deterministic responses of this model.
    cache: bool = True
    warmup: ModelWarmup = Field(default_factory=ModelWarmup)


class RedisConfig(CamelModel):
    url: str = "redis://127.0.0.1:6379/0"


SectionT = TypeVar("SectionT", bound=BaseModel)


class RuntimeConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    models: list[ModelRuntime] = Field(default_factory=list)
    redis: RedisConfig = Field(default_factory=RedisConfig)

    def model(self, name: str) -> ModelRuntime | None:
        return next((m for m in self.models if m.name == name), None)

    def section(self, key: str, model: type[SectionT]) -> SectionT:
        """Parse a component's own section (`gateway:`, `worker:`, ...); missing means defaults."""
        raw = (self.model_extra or {}).get(key) or {}
        return model.model_validate(raw)


def load_runtime_config(path: str | Path) -> RuntimeConfig:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    config = RuntimeConfig.model_validate(data)
    # The chart passes a Redis URL with a password from a Secret (redis.existingSecret)
    # in this variable, so it never sits in the runtime ConfigMap.
    if os.environ.get(REDIS_URL_ENV):
        config.redis.url = os.environ[REDIS_URL_ENV]
    return config
