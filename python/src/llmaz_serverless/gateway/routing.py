"""The URL map: which upstream serves a model, with which Host and route headers.

A request names its model in the JSON body (`"model": "llama"`), or reaches
the gateway under a model's `pathPrefix` (`/llama/v1/chat/completions`).
Upstream is the model's `upstream` (the KEDA HTTP interceptor proxy in a
cluster) plus `pathPrefix` plus the OpenAI path, sent with the model's `host`
as Host header and its `headers`, which are what the InterceptorRoute matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmaz_serverless.config import ModelRuntime, RuntimeConfig


@dataclass(frozen=True)
class Route:
    model: ModelRuntime
    base_url: str
    # Headers every upstream request of this model carries (Host, route headers).
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.model.name

    def url(self, api_path: str) -> str:
        return f"{self.base_url}{self.model.path_prefix}{api_path}"

    @property
    def header_budget(self) -> float:
        """How long to wait for response headers: the interceptor's hold plus first-byte time.

        The interceptor holds a request for up to `coldStart` while the model
        scales from zero, then the pod has `responseHeader` to answer; the
        gateway waits for both, so in a cluster the interceptor times out first
        and the gateway's own timer only catches an upstream that hangs.
        """
        return self.model.timeouts.cold_start + self.model.timeouts.response_header


class ModelRoutes:
    """Routes by model name and by path prefix, built once from the runtime config."""

    def __init__(self, runtime: RuntimeConfig) -> None:
        self._by_name: dict[str, Route] = {}
        self._by_prefix: dict[str, Route] = {}
        for model in runtime.models:
            headers = dict(model.headers)
            if model.host:
                headers["Host"] = model.host
            route = Route(model=model, base_url=model.upstream.rstrip("/"), headers=headers)
            if model.name in self._by_name:
                raise ValueError(f"models: the name {model.name!r} appears twice; model names must be unique")
            self._by_name[model.name] = route
            prefix = model.path_prefix.rstrip("/")
            if prefix:
                if not prefix.startswith("/"):
                    raise ValueError(
                        f"models[{model.name}].pathPrefix: {model.path_prefix!r} must start with '/', "
                        "e.g. '/llama'"
                    )
                if prefix in self._by_prefix:
                    raise ValueError(
                        f"models[{model.name}].pathPrefix: {prefix!r} is also used by model "
                        f"{self._by_prefix[prefix].name!r}; prefixes must be unique"
                    )
                self._by_prefix[prefix] = route
        for route in self._by_name.values():
            failover = route.model.failover
            if failover is not None and (failover not in self._by_name or failover == route.name):
                raise ValueError(
                    f"models[{route.name}].failover: {failover!r} is not another configured model; "
                    f"use one of {sorted(set(self._by_name) - {route.name})} or remove it"
                )

    def get(self, name: str) -> Route | None:
        return self._by_name.get(name)

    def by_prefix(self, prefix: str) -> Route | None:
        return self._by_prefix.get(prefix)

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    @property
    def prefixes(self) -> list[str]:
        return list(self._by_prefix)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_name.values())
