"""The recommendation as a values change: a unified diff of the model's idle settings.

A diff rather than an override file: `models` is a list, and Helm replaces lists instead of merging
them, so the change belongs in the model's own entry.
"""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from llmaz_serverless.plan.search import Candidate
from llmaz_serverless.plan.settings import CronWindow
from llmaz_serverless.plan.values import ModelPlan


def _cron(windows: tuple[CronWindow, ...]) -> list[dict[str, Any]]:
    return [
        {"name": w.name, "timezone": w.timezone, "start": w.start, "end": w.end, "desiredReplicas": w.desired}
        for w in windows
    ]


def idle_settings(model: ModelPlan, c: Candidate | None = None) -> dict[str, Any]:
    """`{name, scaling: {minReplicaCount, cooldownPeriod, cron}}` of the model, or with `c` applied."""
    s = model.scaling
    scaling = {
        "minReplicaCount": s.min_replicas if c is None else c.min_replicas,
        "cooldownPeriod": int(s.cooldown) if c is None else int(c.cooldown),
        "cron": _cron(s.cron if c is None else c.cron),
    }
    return {"name": model.name, "scaling": scaling}


def values_diff(model: ModelPlan, c: Candidate) -> str:
    """Unified diff of the model's idle settings, values as given -> recommended."""
    before = yaml.safe_dump({"models": [idle_settings(model)]}, sort_keys=False).splitlines()
    after = yaml.safe_dump({"models": [idle_settings(model, c)]}, sort_keys=False).splitlines()
    lines = difflib.unified_diff(before, after, "values as given", "recommended", n=3, lineterm="")
    return "\n".join(lines)
