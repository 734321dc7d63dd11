"""The OpenAI endpoints this project serves, proxies, queues, emulates and calls: one table.

Every module that needs an OpenAI path reads it here: the gateway's routes, proxy and
cache; the async API's submit routes and the queue's jobs; the warmup client; the
emulator's routes; the load test. A path named anywhere else is a bug waiting for
the day the table changes.

An endpoint's short `api` name ("chat", "completions") is the one the chart, the queue,
warmup and the load test use in values and job records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpenAiPath:
    """One endpoint and what each user of the table needs to know of it."""

    # Short name used in values, job records and load-test records.
    api: str
    path: str
    # A POST whose JSON body names the model (`"model": ...`): the gateway routes on it and proxies it.
    model_in_body: bool
    # Deterministic answers (temperature 0 or a seed) may be served from the gateway's cache.
    cacheable: bool
    # Accepted as a job by the async API (at ASYNC_PREFIX + the path after /v1).
    queueable: bool

    @property
    def async_path(self) -> str:
        """Where the async API takes this endpoint's jobs, e.g. /v1/async/chat/completions."""
        return ASYNC_PREFIX + self.path.removeprefix("/v1")


# The async API's routes live under this prefix (submit, status, result, payload upload).
ASYNC_PREFIX = "/v1/async"

COMPLETIONS = OpenAiPath("completions", "/v1/completions", model_in_body=True, cacheable=True, queueable=True)
CHAT = OpenAiPath("chat", "/v1/chat/completions", model_in_body=True, cacheable=True, queueable=True)
EMBEDDINGS = OpenAiPath("embeddings", "/v1/embeddings", model_in_body=True, cacheable=False, queueable=False)
# A GET, answered by the gateway itself from its configuration, and by every model server.
MODELS = OpenAiPath("models", "/v1/models", model_in_body=False, cacheable=False, queueable=False)

ENDPOINTS: tuple[OpenAiPath, ...] = (COMPLETIONS, CHAT, EMBEDDINGS, MODELS)
BY_API: dict[str, OpenAiPath] = {e.api: e for e in ENDPOINTS}

# Paths the gateway proxies to a model, routed by the body's model (also under a pathPrefix).
PROXIED_PATHS: tuple[str, ...] = tuple(e.path for e in ENDPOINTS if e.model_in_body)
CACHEABLE_PATHS: frozenset[str] = frozenset(e.path for e in ENDPOINTS if e.cacheable)
# Text generation: what warmup sends, the emulator answers, the async queue runs.
GENERATION: tuple[OpenAiPath, ...] = tuple(e for e in ENDPOINTS if e.queueable)
GENERATION_APIS: tuple[str, ...] = tuple(e.api for e in GENERATION)


def generation(api: str, field: str = "api") -> OpenAiPath:
    """The generation endpoint named `api`; a ValueError naming `field` for any other name."""
    endpoint = BY_API.get(api)
    if endpoint is None or not endpoint.queueable:
        raise ValueError(f"{field}: {api!r} is not a text-generation API; use one of {list(GENERATION_APIS)}")
    return endpoint


def endpoint_of(path: str) -> OpenAiPath | None:
    """The endpoint a request path ends with (a model's pathPrefix may come before it), else None."""
    for endpoint in ENDPOINTS:
        if path.endswith(endpoint.path):
            return endpoint
    return None
