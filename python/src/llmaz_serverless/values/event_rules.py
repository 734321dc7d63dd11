"""Semantic rules for `eventRules:` (see llmaz_serverless.events).

The chart's schema checks each rule's shape (unknown keys, types). These
rules check what only the events package knows or what spans the values:
patterns and templates that would not compile, a pattern that matches every
event without `matchAll: true`, rule names used twice, and actions naming
models that the release does not serve. Registered with the validator's
`@rule` by importing this module (values/__init__.py does).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from llmaz_serverless.events.rules import EventRule
from llmaz_serverless.values.rules import (
    _NO_VALUE,
    ERROR,
    WARNING,
    Finding,
    RuleContext,
    _get,
    repeats,
    rule,
    unknown_name_fix,
)

# Pydantic error types the chart schema already reports (shape and type problems):
# repeating them here would print every such mistake twice.
_SCHEMA_KINDS = {"extra_forbidden", "missing", "string_type", "int_type", "int_parsing", "bool_type",
                 "bool_parsing", "list_type", "dict_type", "model_type", "literal_error",
                 "string_pattern_mismatch", "string_too_long", "greater_than_equal", "less_than_equal",
                 "too_short", "int_from_float", "float_type", "float_parsing"}  # fmt: skip
_EVERYTHING = "would match every event"
_MATCH_ALL = "matchAll is true but a pattern is set"  # events/match-all-with-pattern reports it


def _rules(ctx: RuleContext) -> list[tuple[int, dict[str, Any]]]:
    raw = ctx.get("eventRules", default=[])
    if not isinstance(raw, list):
        return []
    return [(i, r) for i, r in enumerate(raw) if isinstance(r, dict)]


def _parsed(ctx: RuleContext) -> list[tuple[int, EventRule]]:
    out = []
    for i, raw in _rules(ctx):
        try:
            out.append((i, EventRule.model_validate(raw)))
        except ValidationError:
            continue
    return out


def _loc_keys(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic names union members and validators in `loc`; keep the values path only.
    return tuple(p for p in loc if isinstance(p, int) or not str(p).startswith(("function-", "[")))


@rule("events/invalid-rule", "Event rule whose pattern, template or actions cannot work", WARNING)
def _invalid_rule(ctx: RuleContext) -> Iterator[Finding]:
    """Each eventRules entry is parsed as the gateway will parse it: patterns must compile (lists of allowed
    values or prefix/exists/anythingBut matchers, CloudEvents attribute names at the top, payload fields
    under `data`), request templates must use valid ${path} placeholders, every action is exactly one of
    prewarm or submit, and windows are between 0 and 7 days. A warning: the chart cannot parse patterns and
    templates, so it installs such a rule; `validate --strict` makes it fatal.
    """
    for i, raw in _rules(ctx):
        try:
            EventRule.model_validate(raw)
        except ValidationError as err:
            for e in err.errors():
                if e["type"] in _SCHEMA_KINDS or _EVERYTHING in e["msg"] or _MATCH_ALL in e["msg"]:
                    continue
                keys = ("eventRules", i, *_loc_keys(tuple(e["loc"])))
                message = e["msg"].removeprefix("Value error, ")
                yield ctx.finding(None, keys, message, _NO_VALUE, None, WARNING)


@rule("events/pattern-matches-everything", "Event rule with an empty pattern and no matchAll")
def _matches_everything(ctx: RuleContext) -> Iterator[Finding]:
    """A rule without a pattern reacts to every event the gateway receives (every upload, every UI click
    pre-warms or submits). That is almost always a forgotten pattern, so it must be said explicitly with
    matchAll: true.
    """
    for i, raw in _rules(ctx):
        pattern = raw.get("pattern")
        if (pattern is None or pattern == {}) and raw.get("matchAll") is not True:
            yield ctx.finding(
                None,
                ("eventRules", i, "pattern"),
                "is empty, so this rule would match every event",
                pattern if pattern is not None else _NO_VALUE,
                'add a pattern such as type: ["com.example.thing.happened"], or set matchAll: true',
                ERROR,
            )


@rule("events/match-all-with-pattern", "Event rule with matchAll and a pattern")
def _match_all_with_pattern(ctx: RuleContext) -> Iterator[Finding]:
    """matchAll: true says the rule reacts to every event; a pattern beside it says it does not. One of them
    is a mistake, so the rule must keep only one.
    """
    for i, raw in _rules(ctx):
        if raw.get("matchAll") and raw.get("pattern"):
            yield ctx.finding(
                None,
                ("eventRules", i, "matchAll"),
                "is true but a pattern is set",
                True,
                "drop matchAll or the pattern",
                ERROR,
            )


@rule("events/duplicate-rule-name", "Two event rules with one name")
def _duplicate_names(ctx: RuleContext) -> Iterator[Finding]:
    """Rule names label metrics, log lines and pre-warm windows in Redis; two rules with one name would share
    them.
    """
    named = ((i, raw.get("name")) for i, raw in _rules(ctx) if isinstance(raw.get("name"), str))
    for i, name, first in repeats(named):
        what = f"is also the name of eventRules[{first}]"
        yield ctx.finding(None, ("eventRules", i, "name"), what, name, "give every rule a unique name", ERROR)


def _actions(ctx: RuleContext) -> list[tuple[int, int, dict[str, Any]]]:
    """(rule, action, the action as written) for every action, parsed or not, as the chart reads them."""
    out = []
    for i, raw in _rules(ctx):
        actions = raw.get("actions")
        for j, action in enumerate(actions if isinstance(actions, list) else []):
            if isinstance(action, dict):
                out.append((i, j, action))
    return out


def prewarmed_models(ctx: RuleContext) -> set[str]:
    """Models that enabled event rules pre-warm: each gets a `prewarm` trigger (events.prewarmModels)."""
    if not ctx.get("events", "enabled"):
        return set()
    # As the chart: a rule without `enabled` is on, one with any falsy `enabled` (null too) is off.
    enabled = {i for i, raw in _rules(ctx) if "enabled" not in raw or raw["enabled"]}
    names: set[str] = set()
    for i, _, action in _actions(ctx):
        prewarm = action.get("prewarm")
        if i in enabled and isinstance(prewarm, dict) and isinstance(prewarm.get("models"), list):
            names |= {str(m) for m in prewarm["models"]}
    return names


def _all_model_names(ctx: RuleContext) -> set[str]:
    names = set()
    models = ctx.get("models", default=[])
    for entry in models if isinstance(models, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            names.add(entry["name"])
    return names


@rule("events/unknown-model", "Event rule action names a model the release does not serve")
def _unknown_model(ctx: RuleContext) -> Iterator[Finding]:
    """prewarm.models and submit.model name entries of `models` (their `name`); a name that is missing or
    disabled has no ScaledObject to pre-warm and no queue to submit to.
    """
    enabled = {m.name for m in ctx.models()}
    every = _all_model_names(ctx)
    for i, raw in _rules(ctx):
        for j, action in enumerate(raw.get("actions") or []):
            if not isinstance(action, dict):
                continue
            refs: list[tuple[tuple[Any, ...], Any]] = []
            models = _get(action, "prewarm", "models", default=None)
            if isinstance(models, list):
                refs += [(("prewarm", "models", k), m) for k, m in enumerate(models)]
            if _get(action, "submit", "model", default=None) is not None:
                refs.append((("submit", "model"), action["submit"]["model"]))
            for keys, name in refs:
                if not isinstance(name, str) or name in enabled:
                    continue
                path = ("eventRules", i, "actions", j, *keys)
                if name in every:
                    yield ctx.finding(
                        None, path, "names a disabled model", name, "enable the model or drop it here", ERROR
                    )
                    continue
                fix = unknown_name_fix(name, enabled)
                yield ctx.finding(None, path, "names no model of `models`", name, fix, ERROR)


@rule("events/submit-without-async", "Event rule submits jobs to a model without the async path")
def _submit_without_async(ctx: RuleContext) -> Iterator[Finding]:
    """A submit action queues a job on the model's Redis stream. Without async.enabled the model has no queue
    trigger (the job would not wake it) and without worker.enabled nothing runs the job.
    """
    # A disabled worker is async/queue-without-worker on the model itself.
    models = {m.name: m for m in ctx.models()}
    for i, j, action in _actions(ctx):
        target = _get(action, "submit", "model")
        if not action.get("submit") or not isinstance(target, str) or target not in models:
            continue
        model = models[target]
        if not model.get("async", "enabled"):
            yield ctx.finding(
                None,
                ("eventRules", i, "actions", j, "submit", "model"),
                f"names {model.name!r}, whose async.enabled is false",
                model.name,
                f"set async.enabled: true on models[{model.index}]",
                ERROR,
            )


@rule("events/prewarm-without-gateway", "Pre-warm rule without the gateway")
def _prewarm_without_gateway(ctx: RuleContext) -> Iterator[Finding]:
    """Pre-warm windows are opened by the gateway's POST /v1/events and read by KEDA from the gateway's GET
    /v1/prewarm/<model>; with gateway.enabled false neither exists.
    """
    if ctx.get("gateway", "enabled") or not ctx.get("events", "enabled"):
        return
    for i, j, action in _actions(ctx):
        if action.get("prewarm"):
            yield ctx.finding(
                None,
                ("eventRules", i, "actions", j, "prewarm"),
                "needs the gateway, which keeps the pre-warm windows, but gateway.enabled is false",
                _NO_VALUE,
                "enable the gateway or drop the prewarm action",
                ERROR,
            )


@rule("events/prewarm-above-max", "Pre-warm floor above the model's maxReplicaCount", WARNING)
def _prewarm_above_max(ctx: RuleContext) -> Iterator[Finding]:
    """KEDA never scales past maxReplicaCount, so a pre-warm floor above it is capped silently."""
    models = {m.name: m for m in ctx.models()}
    for i, rule_ in _parsed(ctx):
        for j, action in enumerate(rule_.actions):
            if action.prewarm is None:
                continue
            for name in action.prewarm.models:
                model = models.get(name)
                top = model.get("scaling", "maxReplicaCount") if model else None
                if isinstance(top, int) and action.prewarm.replicas > top:
                    yield ctx.finding(
                        None,
                        ("eventRules", i, "actions", j, "prewarm", "replicas"),
                        f"asks for more replicas than {name}'s scaling.maxReplicaCount ({top})",
                        action.prewarm.replicas,
                        f"lower replicas to {top} or raise maxReplicaCount",
                        WARNING,
                    )
