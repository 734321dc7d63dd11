"""Pass/fail checks of a run against `loadtest/thresholds.yaml`.

The file has `defaults:`, `local:` (runs against the local stack only) and
per-scenario overrides under `scenarios:`, applied in that order;
each entry is `<metric key>: {max: X}` or `{min: X}` with the keys of
`summary.METRICS`. A metric without data (e.g. no streaming request, so no
TTFT) is reported as skipped, not as a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmaz_serverless.report.summary import METRICS
from llmaz_serverless.toolpaths import repo_root

KNOWN = {key for key, _ in METRICS}


class ThresholdsError(ValueError):
    """thresholds.yaml is malformed; the message names the entry."""


@dataclass(frozen=True)
class Check:
    key: str
    bound: str  # "max" | "min"
    limit: float
    value: float | None

    @property
    def status(self) -> str:
        if self.value is None:
            return "skipped"
        ok = self.value <= self.limit if self.bound == "max" else self.value >= self.limit
        return "pass" if ok else "FAIL"


def default_path() -> Path:
    return repo_root() / "loadtest" / "thresholds.yaml"


def load_thresholds(path: Path | None, scenario: str, local: bool) -> dict[str, dict[str, float]]:
    path = path or default_path()
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(doc) - {"defaults", "local", "scenarios"}
    if unknown:
        raise ThresholdsError(
            f"{path}: unknown section(s) {sorted(unknown)}; expected defaults, local, scenarios"
        )
    sections = [("defaults", doc.get("defaults") or {})]
    if local:
        sections.append(("local", doc.get("local") or {}))
    sections.append((f"scenarios.{scenario}", (doc.get("scenarios") or {}).get(scenario) or {}))
    merged: dict[str, dict[str, float]] = {}
    for where, section in sections:
        for key, rule in section.items():
            if key not in KNOWN:
                raise ThresholdsError(
                    f"{path}: {where}.{key}: unknown metric; known: {', '.join(sorted(KNOWN))}"
                )
            if not isinstance(rule, dict) or set(rule) - {"max", "min"} or not rule:
                raise ThresholdsError(
                    f"{path}: {where}.{key}: expected {{max: N}} or {{min: N}}, got {rule!r}"
                )
            merged[key] = {bound: float(limit) for bound, limit in rule.items()}
    return merged


def evaluate(metrics: dict[str, Any], rules: dict[str, dict[str, float]]) -> list[Check]:
    checks = []
    for key, rule in rules.items():
        for bound, limit in rule.items():
            value = metrics.get(key)
            checks.append(Check(key, bound, limit, None if value is None else float(value)))
    return checks
