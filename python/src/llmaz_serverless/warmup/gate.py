"""The readiness gate: warm a replica straight at its pod, then let it become Ready.

Model pods carry the readiness gate `serving.llmaz-serverless.io/warmed` (added at
creation by the admission webhook). Kubernetes keeps such a pod out of its
Services' ready endpoints until the condition is True, so the HTTP interceptor
keeps holding user requests while the replica warms, and no user pays for the
first slow calls.

When a gated pod's containers are ready (its readiness probe passes) the gate
sends the model's warmup prompts to `http://<pod IP>:<modelPort>` (never through
the interceptor: the controller never wakes a model by itself), then sets the
condition True with reason `Warmed`. If the warmup fails or its deadline passes,
the condition is set True anyway with reason `WarmupTimedOut` and a Warning Event
says why: a model is never kept out of service forever. A gated pod whose model
is not (or no longer) in runtime.yaml, or whose warmup is disabled, is opened at
once (`NotManaged`, `WarmupDisabled`). When a warmed pod's container restarts, the
server has lost what warming built, so the gate is closed again (reason
`ContainerRestarted`) and the replica is warmed anew before it serves.
"""

from __future__ import annotations

import asyncio
import logging
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmaz_serverless.config import ModelRuntime
from llmaz_serverless.warmup import pods
from llmaz_serverless.warmup.client import Target, WarmupClient, WarmupReport
from llmaz_serverless.warmup.firsttoken import FirstTokenWatcher
from llmaz_serverless.warmup.kube import (
    KubeApi,
    KubeApiError,
    condition_patch,
    event_body,
    now_utc,
    object_reference,
)
from llmaz_serverless.warmup.metrics import WarmupMetrics
from llmaz_serverless.warmup.prompts import build_prompts
from llmaz_serverless.warmup.settings import WarmupSettings
from llmaz_serverless.warmup.timeline import Timeline

log = logging.getLogger(__name__)

WARMED = "Warmed"
TIMED_OUT = "WarmupTimedOut"
DISABLED = "WarmupDisabled"
NOT_MANAGED = "NotManaged"
RESTARTED = "ContainerRestarted"
# Slack on top of the model's warmup deadline for the client to wind down before the
# gate opens regardless (the deadline is enforced inside the client already).
DEADLINE_GRACE_S = 15.0
PATCH_ATTEMPTS = 5


@dataclass(frozen=True)
class GateOutcome:
    reason: str
    message: str
    report: WarmupReport | None = None


@dataclass(eq=False)
class ReadinessGate:
    settings: WarmupSettings
    api: KubeApi
    client: WarmupClient
    metrics: WarmupMetrics
    timeline: Timeline
    instance: str
    first_token: FirstTokenWatcher | None = None
    clock: Callable[[], Any] = now_utc
    # At most settings.max_concurrent_warmups warmups at once (made in __post_init__).
    _semaphore: asyncio.Semaphore = field(init=False)
    tasks: dict[str, asyncio.Task[GateOutcome | None]] = field(default_factory=dict, init=False)
    _watchers: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)
    # Pods whose gate we opened: the watch may still show them closed for a moment.
    _opened: set[str] = field(default_factory=set, init=False)
    # Container restarts of each warmed pod when its gate was (last seen) open.
    _restarts: dict[str, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._semaphore = asyncio.Semaphore(self.settings.max_concurrent_warmups)

    async def on_pod(self, event_type: str | None, pod: pods.Pod, model: ModelRuntime | None) -> str:
        """React to one watch event of a pod; returns what was done (for logs and tests)."""
        uid = pods.uid(pod)
        if event_type == "DELETED" or pods.is_terminating(pod):
            self.forget(pod)
            return "forgotten"
        if not pods.is_leader(pod) or not pods.has_gate(pod):
            return "not-gated"
        if pods.condition_true(pod, pods.GATE_CONDITION) or uid in self._opened:
            if model is not None and model.warmup.enabled and await self._close_if_restarted(pod):
                return "closed"
            return "already-open"
        if model is None:
            await self.open(pod, None, GateOutcome(NOT_MANAGED, "no model in runtime.yaml serves this pod"))
            return "opened"
        if not model.warmup.enabled:
            await self.open(pod, model, GateOutcome(DISABLED, f"warmup of model {model.name} is disabled"))
            return "opened"
        if uid in self.tasks:
            return "warming"
        if not pods.containers_ready(pod) or not pods.pod_ip(pod):
            return "waiting"
        self.tasks[uid] = asyncio.create_task(self._warm_and_open(pod, model), name=f"warmup {uid}")
        return "warming"

    def forget(self, pod: pods.Pod) -> None:
        uid = pods.uid(pod)
        for tasks in (self.tasks, self._watchers):
            task = tasks.pop(uid, None)
            if task is not None:
                task.cancel()
        self._opened.discard(uid)
        self._restarts.pop(uid, None)
        self.timeline.forget(pod)

    async def close(self) -> None:
        tasks = [*self.tasks.values(), *self._watchers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def base_url(self, pod: pods.Pod) -> str:
        return f"http://{pods.pod_ip(pod)}:{self.settings.model_port}"

    async def warm(self, pod: pods.Pod, model: ModelRuntime) -> GateOutcome:
        """Send the model's warmup prompts to the pod; never raises."""
        target = Target(base_url=self.base_url(pod), model=model.name)
        seed = zlib.crc32(pods.uid(pod).encode())
        prompts = build_prompts([(p.prompt_tokens, p.max_tokens) for p in model.warmup.prompts], seed)
        deadline = model.warmup.deadline
        try:
            async with asyncio.timeout(deadline + DEADLINE_GRACE_S):
                report = await self.client.warm(
                    target,
                    model.warmup.api,
                    prompts,
                    deadline,
                    health_path=self.settings.health_paths.get(model.backend),
                )
        except TimeoutError:
            return GateOutcome(TIMED_OUT, f"warmup did not finish within its {deadline:.0f}s deadline")
        except Exception as err:  # a bug or an unexpected answer must not keep the pod out of service
            log.exception("warmup of %s failed unexpectedly", pods.name(pod))
            return GateOutcome(TIMED_OUT, f"warmup failed: {type(err).__name__}: {err}")
        for result in report.results:
            outcome = "ok" if result.ok else "failed"
            if result.attempts:
                self.metrics.warmup_requests.labels(model.name, outcome).inc()
            if result.ok and result.first_token_s is not None:
                self.metrics.warmup_first_token.labels(model.name, str(result.prompt_tokens_target)).observe(
                    result.first_token_s
                )
        if report.ok:
            return GateOutcome(WARMED, report.summary(), report)
        return GateOutcome(TIMED_OUT, report.summary(), report)

    async def _warm_and_open(self, pod: pods.Pod, model: ModelRuntime) -> GateOutcome | None:
        uid = pods.uid(pod)
        try:
            async with self._semaphore:
                gauge = self.metrics.warmups_in_progress.labels(model.name)
                gauge.inc()
                loop = asyncio.get_running_loop()
                started = loop.time()
                try:
                    outcome = await self.warm(pod, model)
                finally:
                    gauge.dec()
                self.metrics.warmup_seconds.labels(model.name, outcome.reason).observe(loop.time() - started)
                baseline = await self._first_token_baseline(pod, model)
                if await self.open(pod, model, outcome):
                    await self.timeline.mark(pod, model, "warmed", self.clock())
                    self._watch_first_token(pod, model, baseline)
                return outcome
        finally:
            self.tasks.pop(uid, None)

    async def open(self, pod: pods.Pod, model: ModelRuntime | None, outcome: GateOutcome) -> bool:
        """Set the gate condition True (retrying API errors) and tell about it in Events."""
        uid, ns, name = pods.uid(pod), pods.namespace(pod), pods.name(pod)
        patch = condition_patch(pods.GATE_CONDITION, True, outcome.reason, outcome.message, self.clock())
        rng = random.Random()
        for attempt in range(PATCH_ATTEMPTS):
            try:
                await self.api.patch_pod_status(ns, name, patch)
                break
            except KubeApiError as err:
                if err.status == 404:
                    log.info("pod %s/%s is gone; nothing to open", ns, name)
                    return False
                log.warning("opening the readiness gate of %s/%s failed: %s", ns, name, err)
                if attempt == PATCH_ATTEMPTS - 1:
                    # The next watch event of this pod tries again.
                    return False
                await asyncio.sleep(rng.uniform(0, min(8.0, 0.5 * 2**attempt)))
        self._opened.add(uid)
        self._restarts[uid] = pods.restart_count(pod)
        model_name = model.name if model else "unknown"
        self.metrics.gates_opened.labels(model_name, outcome.reason).inc()
        warning = outcome.reason == TIMED_OUT
        event_type = "Warning" if warning else "Normal"
        await self._event(object_reference(pod), event_type, outcome.reason, outcome.message)
        if warning and model is not None:
            playground = {
                "apiVersion": "inference.llmaz.io/v1alpha1",
                "kind": "Playground",
                "name": model.playground,
                "namespace": model.namespace,
            }
            await self._event(playground, event_type, outcome.reason, f"{name}: {outcome.message}")
        log.info("readiness gate of %s/%s open: %s (%s)", ns, name, outcome.reason, outcome.message)
        return True

    async def _close_if_restarted(self, pod: pods.Pod) -> bool:
        """Close the gate of a warmed pod whose container restarted since; True when closed."""
        uid, ns, name = pods.uid(pod), pods.namespace(pod), pods.name(pod)
        count = pods.restart_count(pod)
        known = self._restarts.setdefault(uid, count)  # first sight after a controller restart
        if count <= known:
            return False
        message = f"container restarted (restart count {count}): warming again before it serves"
        try:
            patch = condition_patch(pods.GATE_CONDITION, False, RESTARTED, message, self.clock())
            await self.api.patch_pod_status(ns, name, patch)
        except KubeApiError as err:
            log.warning("closing the readiness gate of restarted %s/%s failed: %s", ns, name, err)
            return False
        self._restarts[uid] = count
        self._opened.discard(uid)
        await self._event(object_reference(pod), "Normal", RESTARTED, message)
        return True

    async def _event(self, involved: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        try:
            body = event_body(involved, event_type, reason, message, self.clock(), self.instance)
            await self.api.create_event(involved["namespace"], body)
        except KubeApiError as err:
            log.warning("could not post %s event: %s", reason, err)

    def _metrics_url(self, pod: pods.Pod) -> str:
        return self.base_url(pod) + self.timeline.settings.metrics_path

    async def _first_token_baseline(self, pod: pods.Pod, model: ModelRuntime) -> float | None:
        sample = self.timeline.settings.first_token_metrics.get(model.backend)
        if self.first_token is None or not sample:
            return None
        # Read before the gate opens: no user request can have reached the pod yet.
        return await self.first_token.read(self._metrics_url(pod), sample)

    def _watch_first_token(self, pod: pods.Pod, model: ModelRuntime, baseline: float | None) -> None:
        sample = self.timeline.settings.first_token_metrics.get(model.backend)
        if self.first_token is None or baseline is None or not sample:
            return
        watcher = self.first_token
        uid = pods.uid(pod)

        async def watch() -> None:
            try:
                seen = await watcher.wait_for_first(self._metrics_url(pod), sample, baseline)
                if seen is not None:
                    await self.timeline.mark(pod, model, "first_user_token", seen)
            finally:
                self._watchers.pop(uid, None)

        self._watchers[uid] = asyncio.create_task(watch(), name=f"first token {uid}")
