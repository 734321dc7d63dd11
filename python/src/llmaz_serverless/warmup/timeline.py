"""Cold-start timeline: where the time goes between a scale-up and a served first token.

For every scale-up of a Playground (0->1 "from_zero", 1->N "scale_out") the
controller records, per new replica, the moment each phase was reached:

    decision seen -> pod created -> scheduled -> containers started
      -> server healthy -> warmed -> ready -> first user token

All phases are measured from one origin, the scale-up decision as seen on the
Playground's `spec.replicas` (KEDA writes it through the scale subresource). A pod
that appears with no recent decision (evicted and recreated, or the controller
restarted) is timed from its own creation, trigger "pod_replaced". Phases come
from the pod's own status (PodScheduled, container startedAt, ContainersReady,
Ready), so a replica first seen late still gets its whole timeline. The API
stamps these with whole seconds; phases are rounded accordingly.

Each phase becomes a Normal Event on the Playground and an observation of
`llmaz_serverless_cold_start_phase_seconds`; Ready also emits a one-line
summary Event (`ColdStartTimeline`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import kopf

from llmaz_serverless.config import ModelRuntime
from llmaz_serverless.warmup import pods
from llmaz_serverless.warmup.kube import KubeApi, KubeApiError, event_body, now_utc, object_reference
from llmaz_serverless.warmup.metrics import PHASES, WarmupMetrics
from llmaz_serverless.warmup.settings import TimelineSettings

log = logging.getLogger(__name__)

PLAYGROUND_API_VERSION = "inference.llmaz.io/v1alpha1"
# API timestamps are truncated to whole seconds: a pod created in the same second as
# the decision can carry a creationTimestamp up to a second before it.
CLOCK_SLACK = dt.timedelta(seconds=2)

# The reason of the one-line summary Event a replica's timeline ends with.
TIMELINE_REASON = "ColdStartTimeline"
PHASE_REASONS = {
    "pod_created": "ReplicaCreated",
    "scheduled": "ReplicaScheduled",
    "containers_started": "ContainersStarted",
    "server_healthy": "ServerHealthy",
    "warmed": "ReplicaWarmed",
    "ready": "ReplicaReady",
    "first_user_token": "FirstUserToken",
}
PHASE_TEXT = {
    "pod_created": "pod created",
    "scheduled": "scheduled",
    "containers_started": "containers started",
    "server_healthy": "server healthy",
    "warmed": "warmed",
    "ready": "ready",
    "first_user_token": "first user token",
}


@dataclass
class ScaleDecision:
    at: dt.datetime
    from_replicas: int
    to_replicas: int
    # Pods attributed to this decision so far (at most to - from).
    claimed: int = 0

    @property
    def trigger(self) -> str:
        return "from_zero" if self.from_replicas == 0 else "scale_out"

    @property
    def slots(self) -> int:
        return self.to_replicas - self.from_replicas - self.claimed


@dataclass
class ReplicaTimeline:
    model: str
    pod: str
    playground: tuple[str, str]
    origin: dt.datetime
    trigger: str
    # phase -> seconds after the origin
    phases: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        steps = ", ".join(
            f"{PHASE_TEXT[phase]} +{self.phases[phase]:.0f}s" for phase in PHASES if phase in self.phases
        )
        start = "scale-up seen" if self.trigger != "pod_replaced" else "pod created"
        return f"{self.trigger} cold start of {self.pod} (from {start}): {steps}"


def desired_replicas(playground: dict[str, Any]) -> int:
    # llmaz defaults spec.replicas to 1 when it is absent.
    value = (playground.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


@dataclass(eq=False)
class Timeline:
    """Phase bookkeeping for every replica of the configured models, in memory."""

    api: KubeApi
    metrics: WarmupMetrics
    settings: TimelineSettings
    instance: str
    clock: Callable[[], dt.datetime] = now_utc
    _replicas: dict[tuple[str, str], int] = field(default_factory=dict, init=False)
    _refs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, init=False)
    decisions: dict[tuple[str, str], ScaleDecision] = field(default_factory=dict, init=False)
    replicas: dict[str, ReplicaTimeline] = field(default_factory=dict, init=False)
    # Pods that were already serving when first seen: nothing to time.
    _untracked: set[str] = field(default_factory=set, init=False)

    # --- Playgrounds -------------------------------------------------------------------

    async def observe_playground(
        self, event_type: str | None, playground: dict[str, Any], model: ModelRuntime
    ) -> ScaleDecision | None:
        """Notice scale-ups of a Playground; returns the decision when this event is one."""
        key = (pods.namespace(playground), pods.name(playground))
        if event_type == "DELETED":
            self._replicas.pop(key, None)
            self.decisions.pop(key, None)
            self._refs.pop(key, None)
            return None
        self._refs[key] = object_reference(
            {"apiVersion": PLAYGROUND_API_VERSION, "kind": "Playground", **playground}
        )
        replicas = desired_replicas(playground)
        previous = self._replicas.get(key)
        self._replicas[key] = replicas
        # The first sighting (controller start-up listing) is a state, not a change.
        if previous is None or replicas <= previous:
            return None
        decision = ScaleDecision(at=self.clock(), from_replicas=previous, to_replicas=replicas)
        self.decisions[key] = decision
        self.metrics.scale_ups.labels(model.name, decision.trigger).inc()
        await self._event(
            key,
            model,
            "ScaleUpSeen",
            f"spec.replicas {previous} -> {replicas} ({decision.trigger}): "
            f"cold start of {replicas - previous} replica(s) begins",
        )
        return decision

    # --- Pods --------------------------------------------------------------------------

    async def observe_pod(self, pod: pods.Pod, model: ModelRuntime) -> list[str]:
        """Record the phases this pod has newly reached; returns their names."""
        pod_uid = pods.uid(pod)
        if pod_uid in self._untracked:
            return []
        replica = self.replicas.get(pod_uid)
        if replica is None:
            replica = self._start(pod, model)
            if replica is None:
                self._untracked.add(pod_uid)
                return []
        reached = []
        for phase, moment in self._phase_times(pod).items():
            if moment is not None and phase not in replica.phases:
                await self._record(replica, model, phase, moment)
                reached.append(phase)
        return reached

    async def mark(self, pod: pods.Pod, model: ModelRuntime, phase: str, moment: dt.datetime) -> bool:
        """Record a phase the controller saw itself (warmed, first user token)."""
        replica = self.replicas.get(pods.uid(pod))
        if replica is None or phase in replica.phases:
            return False
        await self._record(replica, model, phase, moment)
        return True

    def forget(self, pod: pods.Pod) -> None:
        self.replicas.pop(pods.uid(pod), None)
        self._untracked.discard(pods.uid(pod))

    def _start(self, pod: pods.Pod, model: ModelRuntime) -> ReplicaTimeline | None:
        created = pods.created_at(pod) or self.clock()
        key = (pods.namespace(pod), pods.playground_of(pod) or "")
        decision = self.decisions.get(key)
        max_age = dt.timedelta(seconds=self.settings.decision_max_age)
        if (
            decision is not None
            and decision.slots > 0
            and created >= decision.at - CLOCK_SLACK
            and created - decision.at <= max_age
        ):
            decision.claimed += 1
            origin, trigger = decision.at, decision.trigger
        elif pods.condition_true(pod, "Ready"):
            return None  # serving before we looked: no cold start to time
        else:
            origin, trigger = created, "pod_replaced"
        replica = ReplicaTimeline(
            model=model.name,
            pod=f"{pods.namespace(pod)}/{pods.name(pod)}",
            playground=key,
            origin=origin,
            trigger=trigger,
        )
        self.replicas[pods.uid(pod)] = replica
        return replica

    @staticmethod
    def _phase_times(pod: pods.Pod) -> dict[str, dt.datetime | None]:
        return {
            "pod_created": pods.created_at(pod),
            "scheduled": pods.condition_time(pod, "PodScheduled"),
            "containers_started": pods.container_started_at(pod),
            "server_healthy": pods.condition_time(pod, "ContainersReady"),
            "warmed": pods.condition_time(pod, pods.GATE_CONDITION),
            "ready": pods.condition_time(pod, "Ready"),
        }

    async def _record(
        self, replica: ReplicaTimeline, model: ModelRuntime, phase: str, moment: dt.datetime
    ) -> None:
        seconds = max(0.0, (moment - replica.origin).total_seconds())
        replica.phases[phase] = seconds
        self.metrics.phase_seconds.labels(model.name, replica.trigger, phase).observe(seconds)
        await self._event(
            replica.playground,
            model,
            PHASE_REASONS[phase],
            f"{replica.pod}: {PHASE_TEXT[phase]} {seconds:.0f}s after "
            f"{'the scale-up' if replica.trigger != 'pod_replaced' else 'pod creation'} ({replica.trigger})",
        )
        if phase == "ready":
            await self._event(replica.playground, model, TIMELINE_REASON, replica.summary())

    async def _event(self, key: tuple[str, str], model: ModelRuntime, reason: str, message: str) -> None:
        involved = self._refs.get(key) or {
            "apiVersion": PLAYGROUND_API_VERSION,
            "kind": "Playground",
            "name": key[1] or model.playground,
            "namespace": key[0] or model.namespace,
        }
        try:
            await self.api.create_event(
                involved["namespace"],
                event_body(involved, "Normal", reason, message, self.clock(), self.instance),
            )
        except KubeApiError as err:
            # The timeline is an observation: losing one Event never blocks warming.
            log.warning("could not post %s event on Playground %s/%s: %s", reason, *key, err)


async def record_scale_decision(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Watch Playgrounds of configured models for spec.replicas going up (the scale decision)."""
    await memo.warmup.on_playground_event(type, dict(body))


def register(registry: kopf.OperatorRegistry) -> None:
    kopf.on.event("inference.llmaz.io", "v1alpha1", "playgrounds", registry=registry)(record_scale_decision)
