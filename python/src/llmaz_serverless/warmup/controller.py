"""The warmup controller's state, shared by its kopf handlers through kopf's `memo`.

Handlers stay thin (see `replicas.py`, `timeline.py`, `admission.py`): they pass
the watched object to this class, which maps it to its runtime.yaml model and
hands it to the timeline and the readiness gate. Unit tests build one with a
recording KubeApi and call the same methods the handlers call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from llmaz_serverless.config import ModelRuntime, RuntimeConfig
from llmaz_serverless.warmup import pods
from llmaz_serverless.warmup.client import RetryPolicy, WarmupClient
from llmaz_serverless.warmup.firsttoken import FirstTokenWatcher
from llmaz_serverless.warmup.gate import ReadinessGate
from llmaz_serverless.warmup.kube import KubeApi
from llmaz_serverless.warmup.metrics import WarmupMetrics
from llmaz_serverless.warmup.settings import SECTION, WarmupSettings
from llmaz_serverless.warmup.timeline import Timeline


@dataclass
class WarmupController:
    config: RuntimeConfig
    settings: WarmupSettings
    metrics: WarmupMetrics
    timeline: Timeline
    gate: ReadinessGate
    client: WarmupClient

    @classmethod
    def build(
        cls,
        config: RuntimeConfig,
        api: KubeApi,
        *,
        metrics: WarmupMetrics | None = None,
        client: WarmupClient | None = None,
        instance: str | None = None,
    ) -> WarmupController:
        settings = config.section(SECTION, WarmupSettings)
        metrics = metrics or WarmupMetrics()
        # The pod name, as Events' reportingInstance (HOSTNAME is the pod name in Kubernetes).
        instance = instance or os.environ.get("HOSTNAME", "llmaz-serverless-warmup")
        client = client or WarmupClient(RetryPolicy(attempts=settings.attempts, backoff=settings.backoff))
        timeline = Timeline(api, metrics, settings.timeline, instance)
        watcher = FirstTokenWatcher(
            lambda: client.session,
            settings.timeline.first_token_poll_interval,
            settings.timeline.first_token_window,
        )
        gate = ReadinessGate(settings, api, client, metrics, timeline, instance, first_token=watcher)
        return cls(config, settings, metrics, timeline, gate, client)

    @property
    def namespaces(self) -> list[str]:
        return sorted({model.namespace for model in self.config.models})

    def model_for_playground(self, playground: dict[str, Any]) -> ModelRuntime | None:
        return pods.model_for(self.config, pods.namespace(playground), pods.name(playground))

    async def on_pod_event(self, event_type: str | None, pod: pods.Pod) -> str:
        model = pods.model_for_pod(self.config, pod)
        if model is not None and pods.is_leader(pod) and event_type != "DELETED":
            await self.timeline.observe_pod(pod, model)
        return await self.gate.on_pod(event_type, pod, model)

    async def on_playground_event(self, event_type: str | None, playground: dict[str, Any]) -> None:
        model = self.model_for_playground(playground)
        if model is not None:
            await self.timeline.observe_playground(event_type, playground, model)

    async def close(self) -> None:
        await self.gate.close()
        await self.client.close()
