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
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr
from pydantic.alias_generators import to_camel

REDIS_URL_ENV = "LLMAZ_SERVERLESS_REDIS_URL"
# The one duration grammar, shared by every reader: "0", or one or more
# <number><unit> with units ms, s, m, h ("90s", "1h30m", "1.5m", "250ms"); no
# sign, spaces, "ns" or "us" (a request timeout is never that short). The chart's
# values.schema.json holds these two patterns verbatim (`duration`,
# `optionalDuration`, and the generated config fragments); the optional form
# also takes "" for "none". tests/charts/test_duration_grammar.py holds the
# Python parser, the schema and helm's `durationSeconds` to the same table.
DURATION_PATTERN = "^(0|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$"
OPTIONAL_DURATION_PATTERN = "^(|0|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$"
_DURATION = re.compile(DURATION_PATTERN)
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float | None:
    """Seconds from a number or a duration string ("90s", "5m", "1h30m", "250ms").

    None and "" mean "no limit" where a field allows it and return None; any
    other string outside the grammar above raises ValueError naming it.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '90s' or '5m', got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if not _DURATION.fullmatch(text):
        raise ValueError(
            f"expected a duration such as '90s', '5m' or '1h30m' (units ms, s, m, h; no spaces), "
            f"got {value!r}"
        )
    return float(sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text)))


def duration_or_none(value: Any) -> float | None:
    """Seconds of a duration (the grammar above) or a number; None for anything else.

    For readers that report a bad value themselves (the values rules, the planner)
    instead of failing on it.
    """
    try:
        return parse_duration(value)
    except ValueError:
        return None


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

    # Sections whose effective settings (file, env, flags, code) a component's
    # `load()` recorded (see llmaz_serverless.settings), by section key.
    _effective: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    def section(self, key: str, model: type[SectionT]) -> SectionT:
        """A component's own section (`gateway:`, `worker:`, ...); missing means defaults.

        After the component's settings `load()` ran, its effective settings (env and flags
        laid over the file); before, the file alone.
        """
        found = self._effective.get(key)
        if isinstance(found, model):
            return found
        return model.model_validate(self.section_data(key))

    def section_data(self, key: str) -> dict[str, Any]:
        """A section as written in the file; a dotted key reaches into one (`emulator.defaults`)."""
        node: Any = self.model_extra or {}
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return {}
        if not isinstance(node, dict):
            raise ValueError(f"runtime.yaml `{key}`: expected a mapping of settings, got {node!r}")
        return node

    def use_section(self, key: str, settings: BaseModel) -> None:
        """Record a component's effective settings for every later `section(key, ...)`."""
        self._effective[key] = settings


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
