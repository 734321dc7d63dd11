"""The scaling settings of each model, read from values files the way the chart renders them.

Values files merge like `helm -f` (values/merge.py, chart defaults underneath); each entry of
`models` is then laid over `modelDefaults` (maps merge, everything else replaces), as the chart's
`llmaz-serverless.models` helper does. Only the keys the decision loop reads are taken. A values
file of the stack chart (our values under `llmaz-serverless:`) is read as our chart's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmaz_serverless.config import duration_or_none
from llmaz_serverless.events.rules import EventRule
from llmaz_serverless.plan.settings import (
    DEFAULT_DOWN,
    DEFAULT_UP,
    CronWindow,
    Direction,
    EventPrewarm,
    Policy,
    Scaling,
)
from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless.values.loader import LoadedValues, MarkTree, load_file
from llmaz_serverless.values.merge import merge_values


@dataclass(frozen=True)
class ModelPlan:
    """One model of the values: its index in `models`, name, scaling and GPUs per replica."""

    index: int
    name: str
    served_name: str
    scaling: Scaling
    gpus_per_replica: float
    # The model's entry as merged with modelDefaults (for the values diff).
    data: dict[str, Any]


def _overlay(defaults: Any, model: Any) -> Any:
    if not isinstance(defaults, dict) or not isinstance(model, dict):
        return copy.deepcopy(model)
    out = copy.deepcopy(defaults)
    for key, value in model.items():
        out[key] = _overlay(out.get(key), value) if isinstance(value, dict) else copy.deepcopy(value)
    return out


def _get(data: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data or data[key] is None:
            return default
        data = data[key]
    return data


def _direction(raw: Any, fallback: Direction, where: str) -> Direction:
    if not isinstance(raw, dict):
        return fallback
    window = raw.get("stabilizationWindowSeconds")
    policies = tuple(
        Policy(str(p.get("type", "Pods")), float(p.get("value", 1)), float(p.get("periodSeconds", 15)))
        for p in raw.get("policies") or []
        if isinstance(p, dict)
    )
    return Direction(
        float(window) if window is not None else fallback.window,
        policies or fallback.policies,
        str(raw.get("selectPolicy") or "Max"),
    )


def _seconds(value: Any, where: str, default: float) -> float:
    if value is None or value == "":
        return default
    seconds = duration_or_none(value)
    if seconds is None:
        raise ValueError(f"{where}: {value!r} is not a duration; fix: write e.g. 60s or 10m")
    return seconds


def scaling_of(model: dict[str, Any], where: str) -> Scaling:
    s = _get(model, "scaling", default={})
    rate = _get(s, "http", "requestRate", default={})
    idle = _get(s, "idleReplicaCount")
    behavior = _get(s, "behavior", default={})
    cron = tuple(
        CronWindow(
            str(c.get("name", f"cron{k}")), str(c["start"]), str(c["end"]),
            str(c.get("timezone") or "Etc/UTC"), int(c.get("desiredReplicas") or 1),
        )
        for k, c in enumerate(_get(s, "cron", default=[]) or [])
        if isinstance(c, dict) and c.get("start") and c.get("end")
    )  # fmt: skip
    return Scaling(
        min_replicas=int(_get(s, "minReplicaCount", default=0)),
        max_replicas=int(_get(s, "maxReplicaCount", default=1)),
        idle_replicas=None if idle is None else int(idle),
        polling_interval=float(_get(s, "pollingInterval", default=30)),
        cooldown=float(_get(s, "cooldownPeriod", default=300)),
        concurrency_target=float(_get(s, "http", "concurrency", default=100)),
        rate_target=float(rate["targetValue"]) if rate.get("enabled") and rate.get("targetValue") else None,
        rate_window=_seconds(rate.get("window"), f"{where}.scaling.http.requestRate.window", 60.0),
        up=_direction(behavior.get("scaleUp"), DEFAULT_UP, where),
        down=_direction(behavior.get("scaleDown"), DEFAULT_DOWN, where),
        cron=cron,
        hold_timeout=_seconds(_get(model, "timeouts", "coldStart"), f"{where}.timeouts.coldStart", 600.0),
    )


def _gpus(model: dict[str, Any]) -> float:
    for flavor in _get(model, "flavors", default=[]) or []:
        limits = _get(flavor, "limits", default={}) or {}
        for key, value in limits.items():
            if key.endswith("/gpu"):
                try:
                    return float(value)
                except (TypeError, ValueError):
                    break
    return 1.0


# The stack chart (charts/llmaz-serverless-stack) passes this key's values to our chart.
SUBCHART_KEY = "llmaz-serverless"


def _chart_layer(layer: LoadedValues) -> LoadedValues:
    """A stack-chart values file (models under `llmaz-serverless:`) as our chart's layer."""
    sub = layer.data.get(SUBCHART_KEY)
    if "models" in layer.data or not isinstance(sub, dict):
        return layer
    return LoadedValues(sub, layer.marks.children.get(SUBCHART_KEY, MarkTree()), layer.source)


def _merged(files: list[Path], set_values: list[str] | None, chart: Path | None) -> dict[str, Any]:
    defaults = load_file((chart or chart_dir()) / "values.yaml")
    return merge_values(defaults, [_chart_layer(load_file(f)) for f in files], set_values or []).data


def load_event_prewarms(
    files: list[Path], set_values: list[str] | None = None, chart: Path | None = None
) -> list[EventPrewarm]:
    """The pre-warm actions of the values' event rules, when `events.enabled` puts their trigger on
    the ScaledObjects; rules that do not parse are left to `validate`."""
    merged = _merged(files, set_values, chart)
    if not _get(merged, "events", "enabled", default=False):
        return []
    out = []
    for raw in merged.get("eventRules") or []:
        try:
            rule = EventRule.model_validate(raw)
        except ValueError:
            continue
        if not rule.enabled:
            continue
        for action in rule.actions:
            if action.prewarm is not None:
                p = action.prewarm
                out.append(
                    EventPrewarm(rule.name, rule.compiled, tuple(p.models), p.replicas, float(p.window))
                )
    return out


def load_models(
    files: list[Path], set_values: list[str] | None = None, chart: Path | None = None
) -> list[ModelPlan]:
    """Every model of the merged values, with its scaling; raises ValueError when there is none."""
    merged = _merged(files, set_values, chart)
    base = merged.get("modelDefaults") or {}
    out = []
    for index, entry in enumerate(merged.get("models") or []):
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        model = _overlay(base, entry)
        where = f"models[{index}]"
        out.append(ModelPlan(
            index, str(entry["name"]), str(model.get("servedName") or entry["name"]),
            scaling_of(model, where), _gpus(model), model,
        ))  # fmt: skip
    if not out:
        names = ", ".join(str(f) for f in files) or "the chart defaults"
        raise ValueError(
            f"{names}: `models` is empty; fix: pass the values file that lists your models with -f"
        )
    return out
