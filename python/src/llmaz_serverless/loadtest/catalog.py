"""The scenarios: shape, its default parameters and what each one sends.

`loadtest/scenarios/NN_<shape>.py` are thin locustfiles that look their
scenario up here, so the runner (which must not import locust: importing it
monkey-patches the process for gevent) knows a scenario's length and defaults
from the same place.

Local defaults fit the local stack (emulator scale-to-zero after 8 s idle).
Against a cluster, the idle gaps must exceed the ScaledObject's
`cooldownPeriod` (KEDA's default is 300 s) or the model never reaches zero:
pass e.g. `--shape-param idle=360`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmaz_serverless.loadtest import shapes
from llmaz_serverless.toolpaths import repo_root


@dataclass(frozen=True)
class Scenario:
    name: str
    shape: str
    description: str
    shape_defaults: dict[str, Any] = field(default_factory=dict)
    # LoadProfile fields this scenario sets unless the command line does.
    profile_defaults: dict[str, Any] = field(default_factory=dict)

    def schedule(self, overrides: dict[str, Any] | None = None) -> shapes.Schedule:
        return shapes.build(self.shape, {**self.shape_defaults, **(overrides or {})})

    @property
    def locustfile(self) -> Path:
        return repo_root() / "loadtest" / "scenarios" / f"{self.name}.py"


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "00_mix",
            "mix",
            "the short `make loadtest` profile: burst from zero, step up, ramp down, idle to zero, "
            "burst again",
            {"idle": 15.0, "peak_users": 6, "lead_in": 3.0, "phase": 12.0},
        ),
        Scenario("01_steady", "steady", "constant load: the warm baseline", {"users": 4, "duration": 60.0}),
        Scenario(
            "02_step",
            "step",
            "load rising in steps: scale-up lag under growing load",
            {"start_users": 1, "step_users": 2, "steps": 4, "step_duration": 15.0},
        ),
        Scenario(
            "03_burst_after_idle",
            "burst_after_idle",
            "nothing, then everyone at once, twice: every burst meets zero replicas (0 -> 1)",
            {"idle": 20.0, "burst_users": 8, "burst_duration": 10.0, "repeats": 2, "lead_in": 3.0},
        ),
        Scenario(
            "04_diurnal",
            "diurnal",
            "two compressed days; the night lets the model return to zero",
            {"min_users": 0, "max_users": 8, "period": 60.0, "days": 2},
        ),
        Scenario(
            "05_async",
            "burst_after_idle",
            "async API: a burst of submitted jobs, polled to completion (end-to-end latency)",
            {"idle": 10.0, "burst_users": 6, "burst_duration": 10.0, "repeats": 1, "lead_in": 3.0},
            {"api": "async", "stream": False},
        ),
    )
}


def get(name: str) -> Scenario:
    if name in SCENARIOS:
        return SCENARIOS[name]
    matches = [
        s for key, s in SCENARIOS.items() if key.split("_", 1)[1] == name or key.startswith(name + "_")
    ]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"scenario {name!r}: expected one of {', '.join(SCENARIOS)}")
