"""Rules over the release as a whole: names, fallbacks, replica bounds, shutdown budgets.

Each is the twin of a helper in the chart's templates/_validate.tpl (named in
the comment above it) with the same id, condition and limit: the chart fails
`helm install` on exactly these findings, and `validate` reports them first,
with a file and line. Registered with the validator's `@rule` by importing
this module (values/__init__.py does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from llmaz_serverless.values.event_rules import prewarmed_models
from llmaz_serverless.values.messages import CONFIG_RENAMES
from llmaz_serverless.values.rules import (
    ERROR,
    Finding,
    RuleContext,
    _int,
    _int0,
    _list,
    duration_seconds,
    model_trigger_names,
    repeats,
    rule,
)

_WHOLE_NUMBER = re.compile(r"[1-9][0-9]*")


def _go_text(value: Any) -> str:
    """A value as Go's `toString` prints it (5.0 -> "5", True -> "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


# chart: uniqueModelNames
@rule("models/duplicate-name", "Two models with one name")
def _duplicate_model_names(ctx: RuleContext) -> Iterator[Finding]:
    """Every object of a model is named after it; two entries of `models` with one name (enabled or not) would
    render two objects with one name.
    """
    named = (
        (model, model.own.get("name")) for model in ctx.all_models() if isinstance(model.own.get("name"), str)
    )
    for model, name, first in repeats(named):
        what = f"is also the name of models[{first.index}]"
        yield ctx.finding(model, ("name",), what, name, "give every model a unique name", ERROR)


# chart: uniqueServedNames
@rule("routing/duplicate-served-name", "Two models answer to one OpenAI model id")
def _duplicate_served_names(ctx: RuleContext) -> Iterator[Finding]:
    """The gateway routes on the OpenAI `model` field: servedName, or the name when servedName is empty. Two
    enabled models with one served name leave one of them unreachable.
    """
    served = ((model, model.get("servedName") or model.name) for model in ctx.models())
    for model, name, first in repeats(served):
        what = f"is already served by models[{first.index}]"
        fix = "set a different servedName (the OpenAI model id clients send)"
        yield ctx.finding(model, ("servedName",), what, name, fix, ERROR)


# chart: fallbackModelAlwaysOn
@rule("coldstart/fallback-scales-to-zero", "Cold-start fallback model that scales to zero")
def _fallback_always_on(ctx: RuleContext) -> Iterator[Finding]:
    """The fallback answers while this model is cold; a fallback that can be at zero itself is cold at the
    same moment, so it must keep minReplicaCount >= 1 and no idleReplicaCount.
    """
    every = ctx.all_models()
    for model in ctx.models():
        target = model.get("coldStart", "fallback", "model")
        if not model.get("coldStart", "fallback", "enabled") or not target:
            continue
        for other in every:
            low = _int0(other.get("scaling", "minReplicaCount"))
            idle = other.get("scaling", "idleReplicaCount")
            if other.get("name") == target and (low < 1 or idle is not None):
                yield ctx.finding(
                    model,
                    ("coldStart", "fallback", "model"),
                    f"names {target!r}, which scales to zero (minReplicaCount {low}, idleReplicaCount "
                    f"{'null' if idle is None else idle})",
                    target,
                    f"keep {target!r} always on: scaling.minReplicaCount >= 1 and no idleReplicaCount",
                    ERROR,
                )


# chart: fallbackOrPlaceholder
@rule("coldstart/fallback-and-placeholder", "Cold-start fallback and placeholder both enabled")
def _fallback_or_placeholder(ctx: RuleContext) -> Iterator[Finding]:
    """While a model is cold a request either gets the placeholder answer at once or goes to the fallback
    model; the InterceptorRoute can do only one.
    """
    for model in ctx.models():
        if model.get("coldStart", "fallback", "enabled") and model.get("coldStart", "placeholder", "enabled"):
            yield ctx.finding(
                model,
                ("coldStart",),
                "enables both fallback and placeholder",
                model.get("coldStart"),
                "choose one: the placeholder answers at once, the fallback answers with another model",
                ERROR,
            )


# chart: placeholderNeedsInterceptorRoute
@rule("coldstart/placeholder-needs-interceptorroute", "Placeholder response without the InterceptorRoute API")
def _placeholder_api(ctx: RuleContext) -> Iterator[Finding]:
    """Only the InterceptorRoute API (HTTP add-on >= 0.14) can answer for a model at zero; HTTPScaledObject
    has no placeholder.
    """
    api = ctx.get("httpAddon", "api")
    if api == "InterceptorRoute":
        return
    for model in ctx.models():
        if model.get("coldStart", "placeholder", "enabled"):
            yield ctx.finding(
                model,
                ("coldStart", "placeholder", "enabled"),
                f"needs the InterceptorRoute API, but httpAddon.api is {api}",
                True,
                "upgrade the HTTP add-on to >= 0.14 and set httpAddon.api: InterceptorRoute, or disable the "
                "placeholder",
                ERROR,
            )


# chart: replicaBounds (the prewarm part)
@rule("scaling/prewarm-above-max", "Pre-warm on install asks for more pods than maxReplicaCount")
def _prewarm_above_max(ctx: RuleContext) -> Iterator[Finding]:
    """prewarm.onInstall starts prewarm.replicas pods; KEDA caps the model at maxReplicaCount, so more would
    be scaled away at once.
    """
    for model in ctx.models():
        replicas = _int0(model.get("prewarm", "replicas"))
        top = _int0(model.get("scaling", "maxReplicaCount"))
        if model.get("prewarm", "onInstall") and replicas > top:
            yield ctx.finding(
                model,
                ("prewarm", "replicas"),
                f"is more than scaling.maxReplicaCount ({top})",
                replicas,
                f"pre-warm at most {top} pods, or raise maxReplicaCount",
                ERROR,
            )


# chart: scalingModifiers
@rule("scaling/modifiers-formula-empty", "scalingModifiers enabled without a formula")
def _modifiers_formula(ctx: RuleContext) -> Iterator[Finding]:
    """KEDA rejects scalingModifiers without a formula over the trigger names."""
    for model in ctx.models():
        modifiers = model.get("scaling", "scalingModifiers", default={})
        if isinstance(modifiers, dict) and modifiers.get("enabled") and not modifiers.get("formula"):
            yield ctx.finding(
                model,
                ("scaling", "scalingModifiers", "formula"),
                "is empty while scalingModifiers is enabled",
                modifiers.get("formula", ""),
                "write a formula over the trigger names (http, waiting, kvcache, queue, inflight, "
                'cron_<name>), e.g. "max(http, waiting)"',
                ERROR,
            )


# chart: scalingModifiers
@rule(
    "scaling/modifiers-fallback-needs-average-value",
    "scaling.fallback with scalingModifiers that KEDA cannot fall back on",
)
def _modifiers_fallback(ctx: RuleContext) -> Iterator[Finding]:
    """KEDA applies fallback replicas with scalingModifiers only for metricType AverageValue and a
    whole-number target above 0; otherwise it rejects the ScaledObject.
    """
    for model in ctx.models():
        modifiers = model.get("scaling", "scalingModifiers", default={})
        if not isinstance(modifiers, dict) or not modifiers.get("enabled"):
            continue
        metric, target = modifiers.get("metricType"), _go_text(modifiers.get("target"))
        if model.get("scaling", "fallback", "enabled") and (
            metric != "AverageValue" or not _WHOLE_NUMBER.fullmatch(target)
        ):
            yield ctx.finding(
                model,
                ("scaling", "scalingModifiers"),
                f"has metricType {metric} and target {target!r} while scaling.fallback is enabled",
                None,
                "use metricType AverageValue and a whole-number target, or disable scaling.fallback",
                ERROR,
            )


# The names the chart gives its triggers; a formula word among them must be one this model renders.
_TRIGGER_WORDS = frozenset({"http", "waiting", "kvcache", "queue", "inflight", "prewarm"})


# chart: modifiersTriggers
@rule("scaling/modifiers-unknown-trigger", "scalingModifiers formula names a trigger the model does not have")
def _modifiers_unknown_trigger(ctx: RuleContext) -> Iterator[Finding]:
    """KEDA refuses a ScaledObject whose formula names a trigger it does not have. Which triggers a model has
    depends on its settings: waiting/kvcache need Prometheus and a query, queue needs async, inflight needs
    async on Redis (NATS counts queued and in-flight jobs in one trigger, queue), prewarm needs an event
    rule that pre-warms the model, cron_<name> a cron window.
    """
    prewarmed = prewarmed_models(ctx)
    for model in ctx.models():
        modifiers = model.get("scaling", "scalingModifiers", default={})
        formula = modifiers.get("formula") if isinstance(modifiers, dict) else None
        if not isinstance(modifiers, dict) or not modifiers.get("enabled") or not isinstance(formula, str):
            continue
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula))
        has = model_trigger_names(ctx, model, prewarmed)
        missing = sorted(w for w in words if (w in _TRIGGER_WORDS or w.startswith("cron_")) and w not in has)
        if missing:
            yield ctx.finding(
                model,
                ("scaling", "scalingModifiers", "formula"),
                f"names {', '.join(missing)}, which this model's ScaledObject does not have "
                f"(it has {', '.join(sorted(has))})",
                formula,
                "use only the triggers it has, or turn on what renders the missing ones",
                ERROR,
            )


# chart: uniqueCronNames
@rule("cron/duplicate-name", "Two cron windows of one model with one name")
def _duplicate_cron_names(ctx: RuleContext) -> Iterator[Finding]:
    """Window names become trigger names (cron_<name>), which KEDA requires to be unique per ScaledObject."""
    for model in ctx.models():
        names = [
            _go_text(entry.get("name")) if isinstance(entry, dict) else ""
            for entry in _list(model.get("scaling", "cron"))
        ]
        for _, name, _ in repeats(enumerate(names)):
            fix = "name every window uniquely (names become trigger names)"
            yield ctx.finding(model, ("scaling", "cron"), f"names two windows {name!r}", name, fix, ERROR)


# chart: workerNeedsAsyncModel
@rule("async/worker-without-async-model", "Worker enabled but no model is served asynchronously")
def _worker_without_async(ctx: RuleContext) -> Iterator[Finding]:
    """The worker reads the Redis streams of models with async.enabled; with none it has no queue to read."""
    if ctx.get("worker", "enabled") and not any(m.get("async", "enabled") for m in ctx.models()):
        yield ctx.finding(
            None,
            ("worker", "enabled"),
            "is true but no enabled model has async.enabled",
            True,
            "set async.enabled on the models served asynchronously, or disable the worker",
            ERROR,
        )


# chart: gatewayPdb
@rule("gateway/pdb-blocks-eviction", "Gateway PodDisruptionBudget that allows no eviction")
def _gateway_pdb(ctx: RuleContext) -> Iterator[Finding]:
    """A PDB whose minAvailable is not below the gateway's replicas lets no pod go, so every node drain
    blocks.
    """
    minimum = ctx.get("gateway", "pdb", "minAvailable")
    replicas = _int0(ctx.get("gateway", "replicas"))
    if isinstance(minimum, str) or not (
        ctx.get("gateway", "enabled") and ctx.get("gateway", "pdb", "enabled")
    ):
        return
    if _int0(minimum) >= replicas:
        yield ctx.finding(
            None,
            ("gateway", "pdb", "minAvailable"),
            f"leaves no pod that may be evicted with gateway.replicas {replicas}",
            minimum,
            f"run more than {_int0(minimum)} gateway replicas, or lower minAvailable",
            ERROR,
        )


# chart: movedKeys
@rule("values/moved-key", "A setting renamed inside a component's config")
def _moved_keys(ctx: RuleContext) -> Iterator[Finding]:
    """The generated config schema lets a renamed key through so that this rule can name its new place
    (`retryBackoff` became `upstream.backoff.initial`, ...); the component would refuse it at start.
    """
    for path, new in CONFIG_RENAMES.items():
        parent = ctx.get(*path[:-1])
        if isinstance(parent, dict) and path[-1] in parent:
            yield ctx.finding(
                None, path, "this setting moved", parent[path[-1]], f"set it as {new} instead", ERROR
            )


def _config_seconds(ctx: RuleContext, section: str, key: str, default: int) -> int:
    config = ctx.get(section, "config", default={})
    value = config.get(key, default) if isinstance(config, dict) else default
    return duration_seconds(value) or 0


def _grace_below(ctx: RuleContext, section: str, budget: int, spent_on: str, fix: str) -> Iterator[Finding]:
    """`<section>.terminationGracePeriodSeconds` not above the shutdown budget the pod spends."""
    grace = _int(ctx.get(section, "terminationGracePeriodSeconds"))
    if ctx.get(section, "enabled") and (grace or 0) <= budget:
        yield ctx.finding(
            None,
            (section, "terminationGracePeriodSeconds"),
            f"is not longer than {spent_on}",
            grace,
            fix,
            ERROR,
        )


# chart: gracePeriods
@rule("gateway/grace-period-below-shutdown", "Gateway killed before its shutdown ends")
def _gateway_grace(ctx: RuleContext) -> Iterator[Finding]:
    """On SIGTERM the gateway waits shutdownDelay, then drains streams for up to shutdownTimeout; a
    terminationGracePeriodSeconds not above their sum cuts streams.
    """
    delay = _config_seconds(ctx, "gateway", "shutdownDelay", 5)
    timeout = _config_seconds(ctx, "gateway", "shutdownTimeout", 120)
    yield from _grace_below(
        ctx,
        "gateway",
        delay + timeout,
        f"shutdownDelay {delay}s + shutdownTimeout {timeout}s",
        f"raise it above {delay + timeout}, or shorten gateway.config.shutdownTimeout",
    )


# chart: gracePeriods
@rule("worker/grace-period-below-drain", "Worker killed before its drain ends")
def _worker_grace(ctx: RuleContext) -> Iterator[Finding]:
    """On SIGTERM the worker finishes or hands back claimed jobs for up to drainTimeout; a
    terminationGracePeriodSeconds not above it loses claimed jobs until they are reclaimed.
    """
    drain = _config_seconds(ctx, "worker", "drainTimeout", 120)
    yield from _grace_below(
        ctx,
        "worker",
        drain,
        f"drainTimeout {drain}s",
        f"raise it above {drain}, or shorten worker.config.drainTimeout",
    )
