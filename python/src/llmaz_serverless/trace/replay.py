"""`loadtest --trace`: the runner's side of a trace replay (no locust import here).

The runner applies the transforms, writes the result to RUN_DIR/trace.csv and passes its path to
the locust process in the profile's `shape_params`; `trace/locust_replay.py` (loaded through
loadtest/scenarios/90_trace.py) sends each request open loop at its recorded time with its recorded
token counts. The replayed trace.csv stays in the run directory, so `plan --against RUN_DIR`
simulates exactly what was sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmaz_serverless.loadtest import shapes
from llmaz_serverless.loadtest.metadata import shown_path
from llmaz_serverless.loadtest.records import SCHEDULE_JSON
from llmaz_serverless.toolpaths import repo_root
from llmaz_serverless.trace.formats import read_trace, write_trace
from llmaz_serverless.trace.model import Trace
from llmaz_serverless.trace.transforms import Transforms, apply

TRACE_CSV = "trace.csv"
SCENARIO_NAME = "90_trace"
# Seconds the replay keeps running after the last arrival for the answers still in flight.
DRAIN_SECONDS = 30.0


@dataclass
class TraceReplay:
    path: Path
    transforms: Transforms = field(default_factory=Transforms)
    trace: Trace | None = None

    def load(self) -> Trace:
        if self.trace is None:
            self.trace = apply(read_trace(self.path), self.transforms)
        return self.trace


@dataclass(frozen=True)
class TraceScenario:
    """Looks like a catalog.Scenario to the runner: name, shape, schedule(), locustfile."""

    replay: TraceReplay
    name: str = SCENARIO_NAME
    shape: str = "trace"
    profile_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        trace = self.replay.load()
        return f"trace replay, open loop, at the recorded times and token counts: {trace.describe()}"

    @property
    def locustfile(self) -> Path:
        return repo_root() / "loadtest" / "scenarios" / f"{SCENARIO_NAME}.py"

    def schedule(self, overrides: dict[str, Any] | None = None) -> shapes.Schedule:
        if overrides:
            raise ValueError(
                "--shape-param: a trace replay has no shape parameters; use --window/--thin/--speedup/--gaps"
            )
        trace = self.replay.load()
        phases = [
            shapes.Phase("trace replay", trace.duration + 1.0, lambda _t: 1),
            shapes.Phase("drain", DRAIN_SECONDS, lambda _t: 1),
        ]
        return shapes.Schedule("trace", phases, {"trace": trace.name, "transforms": trace.transforms})

    def write(self, run_dir: Path) -> dict[str, Any]:
        """Write RUN_DIR/trace.csv and schedule.json; returns the shape_params the locust side reads.

        schedule.json (which a scenario's locust shape writes) is where the report reads the traffic
        shape from, so it names the trace, its transforms and its attribution.
        """
        trace = self.replay.load()
        path = write_trace(trace, run_dir / TRACE_CSV)
        schedule = self.schedule()
        params = {"trace": trace.name, "transforms": trace.transforms}
        if trace.attribution:
            params["attribution"] = trace.attribution
        (run_dir / SCHEDULE_JSON).write_text(
            json.dumps(
                {
                    "kind": "trace",
                    "params": params,
                    "total_s": schedule.total,
                    "phases": [{"start_s": s, "name": n} for s, n in schedule.boundaries()],
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        # Relative to where the run started (locust starts there too), so reports carry no machine's paths.
        return {"trace_file": shown_path(path), **params}

    def meta(self) -> dict[str, Any]:
        trace = self.replay.load()
        return {
            "source": str(self.replay.path),
            "name": trace.name,
            "transforms": trace.transforms,
            "requests": len(trace.arrivals),
            "duration_s": trace.duration,
            "start_epoch": trace.start_epoch,
            "attribution": trace.attribution,
            "file": TRACE_CSV,
        }
