"""Run the rules on an event: match, plan the actions, take them, count and log.

`plan()` is pure (no I/O): it decides what every matching rule would do,
with the job requests already rendered from the event. `events test` prints
exactly that plan; `dispatch()` executes it. So what the command shows is
what the gateway does.

A failed action never stops the others. Failures are either permanent (the
event lacks a field a template needs: retrying the same event cannot help)
or retryable (Redis or the queue is unreachable): the intake answers 503 for
the latter so the producer redelivers, and the idempotent actions make that
redelivery safe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from llmaz_serverless.events.intake import ReceivedEvent
from llmaz_serverless.events.metrics import EventMetrics
from llmaz_serverless.events.prewarm import PrewarmStore
from llmaz_serverless.events.rules import EventRule, RuleSet
from llmaz_serverless.events.submit import JobRequest, Submitter, idempotency_key, job_id_for
from llmaz_serverless.events.template import TemplateError

log = logging.getLogger("llmaz_serverless.events")


@dataclass(frozen=True)
class PlannedAction:
    rule: str
    index: int
    kind: Literal["prewarm", "submit"]
    # prewarm
    models: tuple[str, ...] = ()
    replicas: int = 0
    window: float = 0.0
    # submit
    job: JobRequest | None = None
    idempotency: str = ""
    # Why the action cannot run for this event (a template path it lacks).
    error: str | None = None

    def describe(self) -> str:
        if self.kind == "prewarm":
            return (
                f"prewarm {', '.join(self.models)}: keep >= {self.replicas} replica(s) "
                f"for {_duration(self.window)} after the last matching event"
            )
        if self.error:
            return f"submit: FAILS for this event: {self.error}"
        assert self.job is not None
        return f"submit job {self.job.job_id} to {self.job.model} ({self.job.api}), once per event id"


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole == seconds and whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole == seconds and whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{seconds:g}s"


@dataclass
class ActionOutcome:
    rule: str
    kind: str
    status: Literal["ok", "duplicate", "failed"]
    detail: dict[str, Any] = field(default_factory=dict)
    retryable: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "action": self.kind, "status": self.status, **self.detail}


@dataclass
class EventResult:
    event: ReceivedEvent
    matched: list[str]
    outcomes: list[ActionOutcome]

    @property
    def retryable_failure(self) -> bool:
        return any(o.status == "failed" and o.retryable for o in self.outcomes)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.event.id,
            "source": self.event.source,
            "type": self.event.type,
            "matched": self.matched,
            "actions": [o.as_json() for o in self.outcomes],
        }


def plan_rule(rule: EventRule, event: ReceivedEvent, tenant: str = "default") -> list[PlannedAction]:
    planned: list[PlannedAction] = []
    for index, action in enumerate(rule.actions):
        if action.prewarm is not None:
            p = action.prewarm
            planned.append(PlannedAction(rule.name, index, "prewarm", tuple(p.models), p.replicas, p.window))
            continue
        s = action.submit
        assert s is not None
        key = idempotency_key(event.source, event.id, rule.name, index)
        try:
            body = s.request_template.render(event.document)
            if not isinstance(body, dict):
                raise TemplateError(f"request renders to JSON {type(body).__name__}, not an object")
            body.setdefault("model", s.model)
            webhook = s.webhook_template.render(event.document) if s.webhook_template else None
            if webhook is not None and not isinstance(webhook, str):
                raise TemplateError(f"webhook renders to JSON {type(webhook).__name__}, not a URL string")
        except TemplateError as exc:
            planned.append(PlannedAction(rule.name, index, "submit", idempotency=key, error=str(exc)))
            continue
        job = JobRequest(
            job_id=job_id_for(key),
            model=s.model,
            api=s.api,
            body=body,
            webhook=webhook,
            tenant=tenant,
            event_id=event.id,
            event_source=event.source,
            rule=rule.name,
        )
        planned.append(PlannedAction(rule.name, index, "submit", job=job, idempotency=key))
    return planned


@dataclass(eq=False)
class Dispatcher:
    rules: RuleSet
    metrics: EventMetrics
    # None where the process has no Redis for windows / no async API to submit to.
    prewarm: PrewarmStore | None
    submitter: Submitter | None
    tenant: str = "default"

    def plan(self, event: ReceivedEvent) -> list[tuple[EventRule, list[PlannedAction]]]:
        return [(r, plan_rule(r, event, self.tenant)) for r in self.rules.matching(event.document)]

    async def dispatch(self, event: ReceivedEvent) -> EventResult:
        self.metrics.received.labels(event.mode).inc()
        plans = self.plan(event)
        if not plans:
            log.debug("no rule matched event_id=%s source=%s type=%s", event.id, event.source, event.type)
        outcomes: list[ActionOutcome] = []
        for rule, actions in plans:
            self.metrics.matched.labels(rule.name).inc()
            log.info(
                "event matched rule=%s event_id=%s source=%s type=%s",
                rule.name,
                event.id,
                event.source,
                event.type,
            )
            for action in actions:
                outcomes.extend(await self._run(action, event))
        return EventResult(event, [r.name for r, _ in plans], outcomes)

    async def _run(self, action: PlannedAction, event: ReceivedEvent) -> list[ActionOutcome]:
        if action.kind == "prewarm":
            return [await self._prewarm(action, model, event) for model in action.models]
        return [await self._submit(action, event)]

    def _failed(
        self, action: PlannedAction, event: ReceivedEvent, reason: str, message: str, retryable: bool
    ) -> ActionOutcome:
        self.metrics.actions_failed.labels(action.rule, action.kind, reason).inc()
        log.warning(
            "action failed rule=%s action=%s event_id=%s source=%s reason=%s: %s",
            action.rule,
            action.kind,
            event.id,
            event.source,
            reason,
            message,
        )
        return ActionOutcome(action.rule, action.kind, "failed", {"error": message}, retryable)

    async def _prewarm(self, action: PlannedAction, model: str, event: ReceivedEvent) -> ActionOutcome:
        if self.prewarm is None:
            return self._failed(action, event, "backend", "pre-warm state store is not configured", True)
        try:
            window, state = await self.prewarm.open(model, action.rule, action.replicas, action.window)
        except Exception as exc:  # Redis down or refusing: the producer should retry
            return self._failed(action, event, "backend", f"pre-warm of {model} failed: {exc}", True)
        self.metrics.actions.labels(action.rule, "prewarm", "ok").inc()
        self.metrics.prewarm_windows.labels(model).set(len(state.windows))
        self.metrics.prewarm_replicas.labels(model).set(state.replicas)
        log.info(
            "prewarm rule=%s event_id=%s model=%s replicas=%d window_s=%g floor_now=%d",
            action.rule,
            event.id,
            model,
            action.replicas,
            action.window,
            state.replicas,
        )
        return ActionOutcome(
            action.rule,
            "prewarm",
            "ok",
            {"model": model, "replicas": action.replicas, "endsAt": window.ends_ms / 1000.0},
        )

    async def _submit(self, action: PlannedAction, event: ReceivedEvent) -> ActionOutcome:
        if action.error is not None:
            return self._failed(action, event, "template", action.error, False)
        assert action.job is not None
        if self.submitter is None:
            return self._failed(action, event, "backend", "the async queue is not configured", True)
        try:
            submitted = await self.submitter.submit(action.job, action.idempotency)
        except ValueError as exc:
            # The async API refused the rendered request (bad messages, too large...):
            # the same event would be refused again, so a redelivery cannot help.
            return self._failed(action, event, "request", f"the async API refused the job: {exc}", False)
        except Exception as exc:
            return self._failed(action, event, "backend", f"queueing the job failed: {exc}", True)
        outcome: Literal["ok", "duplicate"] = "duplicate" if submitted.duplicate else "ok"
        self.metrics.actions.labels(action.rule, "submit", outcome).inc()
        log.info(
            "submit rule=%s event_id=%s model=%s job_id=%s duplicate=%s",
            action.rule,
            event.id,
            action.job.model,
            submitted.job_id,
            submitted.duplicate,
        )
        return ActionOutcome(
            action.rule, "submit", outcome, {"model": action.job.model, "jobId": submitted.job_id}
        )
