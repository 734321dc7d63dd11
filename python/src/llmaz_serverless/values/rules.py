"""Semantic rules over merged values: what the schema cannot say.

Each rule has a stable id (used in reports, docs and `--ignore`), a title,
a doc (the rule function's docstring) and a default severity. Rules read the chart's real layout:
every entry of `models` is the chart's `modelDefaults` deep-merged under the
entry (maps merge, lists and scalars replace: the `mergeOverwrite` of
templates/_models.tpl `llmaz-serverless.models`), and disabled models are
skipped as the chart skips them.

Rules must never crash on a malformed document (the schema reports those):
they read through `_get`, which answers a default for anything missing or of
the wrong type. The docs for every rule are in docs/design/validation.md.

Every ERROR rule has a twin in the chart's templates/_validate.tpl with the
same id, condition and limit, so `helm install` rejects exactly what
`validate` rejects (python/tests/charts/test_validate_parity.py proves it on
every shipped values file and on generated ones). What the chart cannot check
(time zones, event patterns) and findings on a default the user did not set
are WARNINGs here.
"""

from __future__ import annotations

import copy
import math
import re
import sys
import zoneinfo
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from llmaz_serverless.config import duration_or_none
from llmaz_serverless.values.loader import Mark
from llmaz_serverless.values.merge import MergedValues
from llmaz_serverless.values.messages import Explanation, Path, did_you_mean, format_path, show

ERROR = "error"
WARNING = "warning"

# Least time from an empty pod to a first token, per backend (seconds). From
# UPSTREAM.md: vLLM start-ups of 59 s and up (minutes for large models), a
# 0.5B model 32-36 s of which most is imports; SGLang and TGI load the same
# way. llama.cpp and ollama map a GGUF file and start in seconds. These are
# floors: a real model is slower, never faster. The chart's
# `validateValues.loadSeconds` holds the same table.
BACKEND_MIN_LOAD_S: dict[str, int] = {"vllm": 60, "sglang": 60, "tgi": 60, "llamacpp": 15, "ollama": 15}
DEFAULT_MIN_LOAD_S = 60

# Metric-name prefixes each backend exports (the names the chart's queries use).
BACKEND_METRIC_PREFIXES: dict[str, tuple[str, ...]] = {
    "vllm": ("vllm:",),
    "sglang": ("sglang:",),
    "tgi": ("tgi_",),
    "llamacpp": ("llamacpp:",),
    "ollama": (),
}
# Signals the chart can build a query for, per backend (templates/_models.tpl promQuery).
BACKEND_SIGNALS: dict[str, set[str]] = {
    "vllm": {"waiting", "kvCache"},
    "sglang": {"waiting", "kvCache"},
    "tgi": {"waiting"},
    "llamacpp": {"waiting", "kvCache"},
    "ollama": set(),
}
T = TypeVar("T")
_GPU_RESOURCE = re.compile(r"(^|/)(gpu|.*\.gpu)$|gpu", re.IGNORECASE)


def duration_seconds(value: Any) -> int | None:
    """Whole seconds of a duration, rounded up as the chart's `durationSeconds` rounds them.

    Like the chart it reads a bare number ("90", 90) as seconds.
    """
    if isinstance(value, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", value.strip()):
        return math.ceil(float(value))
    seconds = duration_or_none(value)
    return None if seconds is None else math.ceil(seconds)


def _fmt_s(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def _get(data: Any, *keys: Any, default: Any = None) -> Any:
    node = data
    for key in keys:
        if isinstance(key, int):
            if not isinstance(node, list) or not -len(node) <= key < len(node):
                return default
        elif not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _int0(value: Any) -> int:
    """An integer setting as the chart's `int` reads it: a missing one counts as 0."""
    number = _int(value)
    return 0 if number is None else number


def _merge_model(defaults: Any, model: Any) -> Any:
    """Sprig mergeOverwrite(deepCopy defaults, deepCopy model): maps merge, everything else replaces."""
    if not isinstance(defaults, dict) or not isinstance(model, dict):
        return copy.deepcopy(model)
    out = copy.deepcopy(defaults)
    for key, value in model.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_model(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@dataclass
class Model:
    """One entry of `models` as the chart sees it (modelDefaults merged under it)."""

    index: int
    name: str
    own: dict[str, Any]  # what the entry itself says
    data: dict[str, Any]  # merged with modelDefaults

    def get(self, *keys: Any, default: Any = None) -> Any:
        return _get(self.data, *keys, default=default)

    @property
    def backend(self) -> str:
        name = self.get("backend", "name", default="vllm")
        return name if isinstance(name, str) else "vllm"


@dataclass(frozen=True)
class Finding:
    """What a rule found: where (path + mark), what, value, fix."""

    explanation: Explanation
    mark: Mark | None
    severity: str


class RuleContext:
    """Read access to merged values for rules, with marks that follow modelDefaults."""

    def __init__(self, merged: MergedValues) -> None:
        self.merged = merged
        self.values = merged.data

    def get(self, *keys: Any, default: Any = None) -> Any:
        return _get(self.values, *keys, default=default)

    @cache  # noqa: B019 - one context per validation run
    def all_models(self) -> tuple[Model, ...]:
        """Every entry of `models`, disabled ones too (names and fallbacks count them)."""
        defaults = self.get("modelDefaults", default={})
        out = []
        for index, entry in enumerate(_list(self.get("models"))):
            if not isinstance(entry, dict):
                continue
            data = _merge_model(defaults if isinstance(defaults, dict) else {}, entry)
            name = entry.get("name")
            out.append(Model(index, name if isinstance(name, str) else f"models[{index}]", entry, data))
        return tuple(out)

    def models(self) -> tuple[Model, ...]:
        """The enabled entries of `models`: the ones the chart renders."""
        return tuple(m for m in self.all_models() if m.get("enabled", default=True) is not False)

    def model_path(self, model: Model, *keys: Any) -> Path:
        return ("models", model.index, *keys)

    def model_mark(self, model: Model, *keys: Any) -> tuple[Mark | None, str | None]:
        """Mark of a model field: the entry's own line, or modelDefaults' if the entry inherits it."""
        if _get(model.own, *keys, default=_MISSING) is not _MISSING:
            return self.merged.mark(self.model_path(model, *keys)), None
        inherited = ("modelDefaults", *keys)
        if _get(self.values, *inherited, default=_MISSING) is not _MISSING:
            return self.merged.mark(inherited), format_path(inherited)
        return self.merged.mark(self.model_path(model)), None

    def finding(
        self, model: Model | None, keys: tuple[Any, ...], what: str, got: Any, fix: str | None, severity: str
    ) -> Finding:
        """A finding at `keys` of a model (or of the top level when model is None); `got` is the raw value."""
        shown = None if got is _NO_VALUE else show(got)
        if model is None:
            return Finding(
                Explanation(tuple(keys), what, shown, fix), self.merged.mark(tuple(keys)), severity
            )
        mark, inherited = self.model_mark(model, *keys)
        if inherited:
            what = f"{what} (inherited from {inherited})"
        return Finding(Explanation(self.model_path(model, *keys), what, shown, fix), mark, severity)


_MISSING = object()
_NO_VALUE = object()  # `got` for findings about something absent


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    doc: str
    severity: str
    check: Callable[[RuleContext], Iterator[Finding]] = field(compare=False)


RULES: list[Rule] = []


def rule(rule_id: str, title: str, severity: str = ERROR) -> Callable[..., Any]:
    """Register a rule; its docstring is the rule's doc (`validate --list-rules`, the docs)."""

    def register(
        func: Callable[[RuleContext], Iterator[Finding]],
    ) -> Callable[[RuleContext], Iterator[Finding]]:
        # `python -OO` strips docstrings: the rules still run there, with an empty doc.
        if not func.__doc__ and sys.flags.optimize < 2:
            raise TypeError(f"rule {rule_id}: {func.__name__} needs a docstring, the rule's doc")
        RULES.append(Rule(rule_id, title, " ".join((func.__doc__ or "").split()), severity, func))
        return func

    return register


def rules_by_id() -> dict[str, Rule]:
    return {r.id: r for r in RULES}


# --- helpers shared by rules ----------------------------------------------------------------------


def load_seconds(model: Model) -> tuple[int, str]:
    """Least time from zero to a Ready, warmed pod, and how it was worked out."""
    base = BACKEND_MIN_LOAD_S.get(model.backend, DEFAULT_MIN_LOAD_S)
    why = f"{model.backend} needs at least {_fmt_s(base)} to load"
    deadline = model.get("warmup", "deadline")
    if model.get("warmup", "enabled") and deadline:
        extra = duration_seconds(deadline) or 0
        base += extra
        why += f" plus up to {_fmt_s(extra)} of warmup (warmup.deadline)"
    return base, why


def cold_start_seconds(model: Model) -> tuple[int, str]:
    """The cold-start budget: timeouts.coldStart, never less than the load time."""
    load, why = load_seconds(model)
    timeout = model.get("timeouts", "coldStart")
    seconds = (duration_seconds(timeout) or 0) if timeout else 0
    if seconds > load:
        return seconds, f"timeouts.coldStart is {_fmt_s(seconds)}"
    return load, f"{why}, {_fmt_s(load)} in all"


def repeats(named: Iterable[tuple[T, Hashable]]) -> Iterator[tuple[T, Hashable, T]]:
    """For each (item, name) whose name came before: the item, the name and the name's first item.

    The one way every "two X with one name" rule finds its repeats (the chart's unique* helpers
    likewise keep the first and flag every later one).
    """
    first: dict[Hashable, T] = {}
    for item, name in named:
        if name in first:
            yield item, name, first[name]
        else:
            first[name] = item


def unknown_name_fix(name: str, known: Iterable[str]) -> str:
    """The fix for a reference to a model that is not there: the likely typo, else the choices."""
    choices = sorted(known)
    guess = did_you_mean(name, choices)
    if guess:
        return f"did you mean {guess!r}?"
    return f"use one of: {', '.join(choices)}" if choices else "add the model"


def scales_to_zero(model: Model) -> bool:
    """Idle count 0, or minimum 0 without an idle count (the chart's `scalesToZero`)."""
    idle = model.get("scaling", "idleReplicaCount")
    if idle is not None:
        return _int(idle) == 0
    return _int0(model.get("scaling", "minReplicaCount")) == 0


# --- the rules ------------------------------------------------------------------------------------


@rule("timeouts/cold-start-below-load-time", "Cold-start timeout shorter than the model's load time")
def _cold_start_timeout(ctx: RuleContext) -> Iterator[Finding]:
    """timeouts.coldStart is the InterceptorRoute readiness timeout and the gateway's hold: shorter than the
    time a pod needs to load and warm, every request that wakes the model times out (504) while the pod
    keeps loading.
    """
    for model in ctx.models():
        if model.get("coldStart", "fallback", "enabled"):
            continue  # the short readiness of a fallback route is the point of a fallback
        timeout = duration_seconds(model.get("timeouts", "coldStart"))
        if not timeout:
            continue
        need, why = load_seconds(model)
        if timeout < need:
            yield ctx.finding(
                model,
                ("timeouts", "coldStart"),
                f"is shorter than the model's load time: {why}, {_fmt_s(need)} in all",
                model.get("timeouts", "coldStart"),
                f"set timeouts.coldStart to at least {_fmt_s(need)} (minutes for big models), or enable "
                "coldStart.fallback",
                ERROR,
            )


@rule("scaling/cooldown-below-cold-start", "cooldownPeriod shorter than the cold start")
def _cooldown(ctx: RuleContext) -> Iterator[Finding]:
    """A model woken by a request whose client then gave up has no held request left: only cooldownPeriod
    keeps it from being scaled back to zero while it still loads, and a model that scales to zero after an
    idle gap shorter than its cold start spends more time loading than serving. The limit is the cold-start
    budget: timeouts.coldStart, never less than the load time.
    """
    for model in ctx.models():
        if scales_to_zero(model):
            yield from _period_covers_cold_start(
                ctx,
                model,
                "cooldownPeriod",
                "the cold start",
                ", or lower timeouts.coldStart if the model loads faster",
            )


@rule(
    "scaling/initial-cooldown-below-cold-start",
    "A pre-warmed model can be scaled to zero while it still loads",
)
def _initial_cooldown(ctx: RuleContext) -> Iterator[Finding]:
    """With prewarm.onInstall the install starts pods before any request; KEDA may scale them to zero once
    initialCooldownPeriod has passed, even if they are still loading, unless it covers the load time.
    """
    for model in ctx.models():
        if model.get("prewarm", "onInstall") and scales_to_zero(model):
            yield from _period_covers_cold_start(
                ctx, model, "initialCooldownPeriod", "the pre-warmed pods' cold start"
            )


def _period_covers_cold_start(
    ctx: RuleContext, model: Model, key: str, whose: str, more_fix: str = ""
) -> Iterator[Finding]:
    """A scaling period (seconds, missing = 0) must last at least the model's cold-start budget."""
    seconds = _int0(model.get("scaling", key))
    need, why = cold_start_seconds(model)
    if seconds < need:
        fix = f"set scaling.{key} to at least {need} seconds{more_fix}"
        yield ctx.finding(model, ("scaling", key), f"is shorter than {whose}: {why}", seconds, fix, ERROR)


@rule("scaling/max-below-min", "maxReplicaCount below minReplicaCount")
def _max_below_min(ctx: RuleContext) -> Iterator[Finding]:
    """KEDA rejects a ScaledObject whose maxReplicaCount is below its minReplicaCount."""
    for model in ctx.models():
        low = _int0(model.get("scaling", "minReplicaCount"))
        high = _int0(model.get("scaling", "maxReplicaCount"))
        if high < low:
            yield ctx.finding(
                model,
                ("scaling", "maxReplicaCount"),
                f"is below scaling.minReplicaCount ({low})",
                high,
                f"set maxReplicaCount to {low} or more, or lower minReplicaCount",
                ERROR,
            )
    if ctx.get("worker", "enabled"):
        low = _int0(ctx.get("worker", "scaling", "minReplicaCount"))
        high = _int0(ctx.get("worker", "scaling", "maxReplicaCount"))
        if high < low:
            yield ctx.finding(
                None,
                ("worker", "scaling", "maxReplicaCount"),
                f"is below worker.scaling.minReplicaCount ({low})",
                high,
                f"set it to {low} or more",
                ERROR,
            )


@rule("scaling/idle-not-below-min", "idleReplicaCount not below minReplicaCount")
def _idle(ctx: RuleContext) -> Iterator[Finding]:
    """KEDA rejects idleReplicaCount >= minReplicaCount. KEDA itself counts a minReplicaCount of 0 as 1, but
    idleReplicaCount 0 with minReplicaCount 0 does nothing and almost always means minReplicaCount >= 1 was
    meant, so the limit is minReplicaCount as written.
    """
    for model in ctx.models():
        idle = model.get("scaling", "idleReplicaCount")
        if idle is None:
            continue
        low = _int0(model.get("scaling", "minReplicaCount"))
        if _int0(idle) >= low:
            yield ctx.finding(
                model,
                ("scaling", "idleReplicaCount"),
                f"must be below minReplicaCount ({low})",
                idle,
                "use idleReplicaCount: 0 with minReplicaCount >= 1, or leave idleReplicaCount null",
                ERROR,
            )


def _wake_triggers(ctx: RuleContext, model: Model) -> set[str]:
    """Trigger names, as the chart names them, that can move a model from zero to one (wakeTriggers)."""
    names = {"http"}  # external-push: every model has a route
    if model.get("async", "enabled"):
        # Redis has queue (backlog) and inflight (pending entries); NATS counts both in queue.
        names |= {"queue"} if ctx.get("worker", "broker") == "nats" else {"queue", "inflight"}
    for entry in _list(model.get("scaling", "cron")):
        if isinstance(entry, dict) and entry.get("name") is not None:
            # The chart names cron triggers cron_<name> with dashes as underscores,
            # because the formula language reads "-" as subtraction.
            names.add("cron_" + str(entry["name"]).replace("-", "_"))
    return names


def model_trigger_names(ctx: RuleContext, model: Model, prewarmed: set[str]) -> set[str]:
    """Every trigger name the model's ScaledObject renders (templates/models/scaledobject.yaml)."""
    names = _wake_triggers(ctx, model)
    if ctx.get("prometheus", "enabled"):
        for signal in ("waiting", "kvCache"):
            query = model.get("scaling", "prometheus", signal, "query")
            has_query = bool(query) or signal in BACKEND_SIGNALS.get(model.backend, set())
            if model.get("scaling", "prometheus", signal, "enabled") and has_query:
                names.add(signal.lower())
    if model.name in prewarmed:
        names.add("prewarm")
    return names


@rule("scaling/zero-without-wake-trigger", "Scale to zero with no trigger that can wake the model")
def _zero_without_wake(ctx: RuleContext) -> Iterator[Finding]:
    """At zero a model exports no metrics, so only the HTTP route, the async queue or a cron window can wake
    it. A scalingModifiers formula that uses none of those keeps the model at zero for ever.
    """
    for model in ctx.models():
        if not scales_to_zero(model) or not model.get("scaling", "scalingModifiers", "enabled"):
            continue
        formula = model.get("scaling", "scalingModifiers", "formula", default="")
        if not isinstance(formula, str) or not formula:
            continue  # an empty formula is scaling/modifiers-formula-empty
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", formula))
        wake = _wake_triggers(ctx, model)
        if not words & wake:
            yield ctx.finding(
                model,
                ("scaling", "scalingModifiers", "formula"),
                "uses no trigger that can wake the model from zero (metrics read 0 while it is at zero)",
                formula,
                f"include one of {', '.join(sorted(wake))} in the formula (e.g. `max(http, waiting)`), or "
                "set minReplicaCount >= 1",
                ERROR,
            )
        cron_refs = sorted(w for w in words if w.startswith("cron-"))
        if cron_refs:
            yield ctx.finding(
                model,
                ("scaling", "scalingModifiers", "formula"),
                f"names {', '.join(cron_refs)}: the chart names cron triggers cron_<name> (the formula "
                "language reads '-' as subtraction)",
                formula,
                "write " + ", ".join(w.replace("-", "_") for w in cron_refs) + " instead",
                ERROR,
            )


@rule("async/queue-without-worker", "Async queue trigger without the worker")
def _queue_without_worker(ctx: RuleContext) -> Iterator[Finding]:
    """A model with async.enabled is woken by its Redis stream backlog, but only the worker (worker.enabled)
    reads the stream and calls the model: without it jobs pile up and the model is woken for nothing.
    """
    if ctx.get("worker", "enabled"):
        return
    for model in ctx.models():
        if model.get("async", "enabled"):
            yield ctx.finding(
                model,
                ("async", "enabled"),
                "is true but worker.enabled is false: nothing consumes this model's queue",
                True,
                "set worker.enabled: true, or async.enabled: false",
                ERROR,
            )


_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_METRIC_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _foreign_metric(query: str, backend: str) -> str | None:
    """The first name in a query, quoted strings aside, that another backend exports (as the chart)."""
    own = BACKEND_METRIC_PREFIXES.get(backend, ())
    # The pattern has no groups, so findall yields whole matches: strings (typeshed says list[Any]).
    names: list[str] = _METRIC_NAME.findall(_QUOTED.sub("", query))
    for name in names:
        others = [p for b, ps in BACKEND_METRIC_PREFIXES.items() if b != backend for p in ps]
        if name.startswith(tuple(others)) and not (own and name.startswith(own)):
            return name
    return None


@rule("prometheus/metric-not-exported", "Prometheus trigger on a metric the backend does not export")
def _metric_not_exported(ctx: RuleContext) -> Iterator[Finding]:
    """The chart builds each prometheus trigger from the backend's own metric names; a backend without the
    metric (ollama exports none, TGI has no KV-cache gauge) gets no trigger, and a custom query naming
    another backend's metric always reads 0. A switch the model entry sets itself is an error (the chart
    refuses it); one inherited from modelDefaults is a warning, since the chart default turns both signals
    on for every backend.
    """
    if not ctx.get("prometheus", "enabled"):
        return
    for model in ctx.models():
        backend = model.backend
        for signal in ("waiting", "kvCache"):
            cfg = model.get("scaling", "prometheus", signal, default={})
            if not isinstance(cfg, dict) or not cfg.get("enabled"):
                continue
            query = cfg.get("query") or ""
            if not query:
                if signal not in BACKEND_SIGNALS.get(backend, set()):
                    keys = ("scaling", "prometheus", signal, "enabled")
                    own = _get(model.own, *keys, default=_MISSING) is not _MISSING
                    yield ctx.finding(
                        model,
                        keys,
                        f"is true but {backend} exports no {signal} metric, so the chart renders no trigger",
                        True,
                        f"set scaling.prometheus.{signal}.enabled: false, or give a query on a metric "
                        f"{backend} exports",
                        ERROR if own else WARNING,
                    )
                continue
            name = _foreign_metric(str(query), backend)
            if name:
                prefixes = BACKEND_METRIC_PREFIXES.get(backend, ())
                yield ctx.finding(
                    model,
                    ("scaling", "prometheus", signal, "query"),
                    f"queries {name}, which {backend} does not export, so it always reads 0",
                    query,
                    f"use a metric {backend} exports"
                    + (
                        f" (names start with {', '.join(prefixes)})"
                        if prefixes
                        else " (it exports none; disable it)"
                    ),
                    ERROR,
                )


def _gpu_keys(resources: Any) -> list[str]:
    keys: list[str] = []
    if isinstance(resources, dict):
        for key, amount in resources.items():
            if isinstance(key, str) and _GPU_RESOURCE.search(key) and str(amount) not in ("0", ""):
                keys.append(key)
    return keys


@rule("scheduling/gpu-without-placement", "GPU request without a nodeSelector", WARNING)
def _gpu_placement(ctx: RuleContext) -> Iterator[Finding]:
    """GPU nodes are usually tainted and labelled; a GPU flavor without a nodeSelector either stays Pending or
    lands on whatever GPU node is free. A llmaz 0.1.4 Playground has no tolerations field, so the flavor's
    nodeSelector is the placement this chart controls (tolerations need the GPU taint removed, a
    BackendRuntime or an admission webhook).
    """
    for model in ctx.models():
        for i, flavor in enumerate(_list(model.get("flavors"))):
            if not isinstance(flavor, dict):
                continue
            gpus = _gpu_keys(flavor.get("limits"))
            if gpus and not flavor.get("nodeSelector"):
                yield ctx.finding(
                    model,
                    ("flavors", i, "nodeSelector"),
                    f"is empty while the flavor asks for {', '.join(gpus)}",
                    _NO_VALUE,
                    "label GPU nodes, e.g. nodeSelector: {nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}",
                    WARNING,
                )
        for part in ("requests", "limits"):
            gpus = _gpu_keys(model.get("backend", "resources", part))
            if gpus:
                yield ctx.finding(
                    model,
                    ("backend", "resources", part),
                    f"asks for {', '.join(gpus)} outside a flavor: llmaz overwrites accelerators from "
                    "flavors and no nodeSelector goes with it",
                    model.get("backend", "resources", part),
                    "move the GPU request to flavors[].limits with a nodeSelector",
                    WARNING,
                )


def _route_keys(model: Model) -> list[tuple[str, str, str, str]]:
    """(host, path, header, value) a model's route matches; [] when the route is unique by its name.

    No hosts means the route's own name (`<release>-<model>`), and a header
    without a value requires that name: both are unique per model.
    """
    hosts = [h.lower() for h in _list(model.get("route", "hosts")) if isinstance(h, str)]
    header = _text(model.get("route", "header", "name")).lower()
    value = _text(model.get("route", "header", "value")) if header else ""
    if not hosts or (header and not value):
        return []
    paths = [p for p in _list(model.get("route", "pathPrefixes")) if isinstance(p, str)] or ["(any)"]
    return [(h, p, header, value) for h in hosts for p in paths]


@rule("routing/duplicate-host-path", "Two models match the same host, path and header")
def _duplicate_routes(ctx: RuleContext) -> Iterator[Finding]:
    """The interceptor picks one route per request; two models with the same host, path prefix and header
    leave it to chance which model answers (and which one scales). Routes without hosts, or with a header
    but no header value, match the route's own name and never overlap.
    """
    seen: dict[tuple[str, str, str, str], Model] = {}
    for model in ctx.models():
        reported = False
        for key in _route_keys(model):
            other = seen.get(key)
            if other is not None and other.index != model.index and not reported:
                host, path, header, value = key
                match = f"host {host}, path {path}" + (f", header {header}: {value}" if header else "")
                yield ctx.finding(
                    model,
                    ("route",),
                    f"matches the same requests as model {other.name!r} (models[{other.index}]): {match}",
                    _NO_VALUE,
                    "give each model its own host, path prefix or header value",
                    ERROR,
                )
                reported = True
            seen.setdefault(key, model)


@rule("routing/unknown-model-reference", "Fallback or failover names no model of the release")
def _unknown_reference(ctx: RuleContext) -> Iterator[Finding]:
    """coldStart.fallback.model and failover must name another enabled entry of `models`; otherwise the route
    points at a Service that does not exist.
    """
    names = {m.name for m in ctx.models()}
    for model in ctx.models():
        refs: list[tuple[tuple[str, ...], Any]] = [(("failover",), model.get("failover"))]
        if model.get("coldStart", "fallback", "enabled") is True:
            refs.append((("coldStart", "fallback", "model"), model.get("coldStart", "fallback", "model")))
        for keys, ref in refs:
            if not isinstance(ref, str) or not ref:
                if keys[0] == "coldStart":
                    yield ctx.finding(
                        model,
                        keys,
                        "is empty while coldStart.fallback is enabled",
                        ref,
                        "name a model",
                        ERROR,
                    )
                continue
            if ref == model.name:
                yield ctx.finding(model, keys, "names the model itself", ref, "name a different model", ERROR)
            elif ref not in names:
                fix = unknown_name_fix(ref, names)
                yield ctx.finding(model, keys, "names no enabled model of `models`", ref, fix, ERROR)


@cache
def _zones() -> frozenset[str]:
    try:
        return frozenset(zoneinfo.available_timezones())
    except Exception:  # pragma: no cover - platform without a tz database
        return frozenset()


def _zone_ok(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@rule("cron/invalid-timezone", "Cron window in an unknown time zone", WARNING)
def _cron_timezone(ctx: RuleContext) -> Iterator[Finding]:
    """KEDA's cron scaler loads the window's time zone from the IANA database; an unknown name makes the
    trigger fail, so the window never pre-warms (and failing triggers count toward fallback). A warning
    because the chart has no time-zone database to check it with; `validate --strict` makes it fatal.
    """
    for model in ctx.models():
        for i, entry in enumerate(_list(model.get("scaling", "cron"))):
            zone = _get(entry, "timezone")
            if not isinstance(zone, str) or not zone or _zone_ok(zone):
                continue
            guess = did_you_mean(zone, _zones())
            fix = f"did you mean {guess!r}?" if guess else "use an IANA name such as Europe/Berlin or UTC"
            yield ctx.finding(
                model, ("scaling", "cron", i, "timezone"), "is not an IANA time zone", zone, fix, WARNING
            )


_DIGITS = re.compile(r"[0-9]+")
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_NAMES = {
    3: {
        m: i + 1
        for i, m in enumerate(
            ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        )
    },
    4: {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])},
}


def cron_problem(expr: str) -> str | None:
    """Why a 5-field cron expression (KEDA's robfig/cron standard parser) is invalid, or None.

    The chart's `validateValues.cronProblem` reads expressions the same way
    (ASCII blanks between fields, ASCII digits, month and day names).
    """
    fields = re.findall(r"[^\t\n\f\r ]+", expr)
    if len(fields) != 5:
        return f"has {len(fields)} fields; KEDA expects 5 (minute hour day-of-month month day-of-week)"
    for index, (text, (label, low, high)) in enumerate(zip(fields, _CRON_FIELDS, strict=True)):
        for part in text.split(","):
            base, slash, step = part.partition("/")
            if slash and (not _DIGITS.fullmatch(step) or int(step) == 0):
                return f"{label} field {text!r} has a bad step {step!r}"
            if base in ("*", "?"):
                continue
            ends = base.split("-")
            if len(ends) > 2:
                return f"{label} field {text!r} is not a value or range"
            for end in ends:
                value = int(end) if _DIGITS.fullmatch(end) else _NAMES.get(index, {}).get(end.upper())
                if value is None or not low <= value <= high:
                    return f"{label} field {text!r}: {end!r} is outside {low}-{high}"
    return None


@rule("cron/invalid-schedule", "Cron window with an invalid start or end")
def _cron_schedule(ctx: RuleContext) -> Iterator[Finding]:
    """KEDA parses start and end as 5-field cron expressions; an invalid one makes the trigger fail, so the
    window never opens.
    """
    for model in ctx.models():
        for i, entry in enumerate(_list(model.get("scaling", "cron"))):
            for key in ("start", "end"):
                expr = _get(entry, key)
                if isinstance(expr, str) and expr:
                    problem = cron_problem(expr)
                    if problem:
                        yield ctx.finding(
                            model, ("scaling", "cron", i, key), problem, expr, 'e.g. "0 8 * * 1-5"', ERROR
                        )


def run_rules(
    merged: MergedValues, skip: set[str] | None = None
) -> tuple[list[tuple[Rule, Finding]], list[str]]:
    """All findings, and messages for rules that could not run (a bug, never a user error)."""
    ctx = RuleContext(merged)
    found: list[tuple[Rule, Finding]] = []
    broken: list[str] = []
    for item in RULES:
        if skip and item.id in skip:
            continue
        try:
            for finding in item.check(ctx):
                found.append((item, finding))
        except Exception as err:  # a rule bug must not hide the other problems
            broken.append(f"rule {item.id} could not run: {type(err).__name__}: {err}")
    return found, broken
