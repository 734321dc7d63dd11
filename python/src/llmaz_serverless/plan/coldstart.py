"""Where the cold-start time comes from: a flag, a published cold-start timeline, or a run directory.

- `26s` / `26`: that many seconds from a replica's creation to Ready.
- a timeline JSON like docs/reports/e2e-local-2026-12-06/cold-start.json (`phases: [{phase,
  seconds_after_sent}]`): from the phase that scaled the model up (KEDA activation, `0 -> 1`) to the
  one where the pod turned Ready (`pod Ready`, else `warmed`, else `listening`).
- a load-test run directory (its replicas.csv): the median time from a scale-up from zero to the
  first Ready replica, over every scale-up the run saw.
"""

from __future__ import annotations

import itertools
import json
import statistics
from pathlib import Path

from llmaz_serverless.config import duration_or_none
from llmaz_serverless.loadtest.records import REPLICAS_CSV, read_replicas

_UP = ("activation", "0 -> 1")
_READY = ("pod ready", "warmed", "listening")


def from_timeline(path: Path) -> tuple[float, str]:
    phases = json.loads(path.read_text(encoding="utf-8")).get("phases") or []
    named = [(str(p.get("phase", "")).lower(), float(p["seconds_after_sent"])) for p in phases]
    up = next((t for name, t in named if any(k in name for k in _UP)), 0.0)
    for key in _READY:
        ready = next((t for name, t in named if key in name), None)
        if ready is not None:
            return ready - up, f"{path}: from the scale-up ({up:g} s) to `{key}` ({ready:g} s)"
    raise ValueError(f"{path}: no phase named like {', '.join(_READY)}; fix: pass --cold-start SECONDS")


def from_run(run_dir: Path) -> tuple[float, str]:
    samples = sorted(read_replicas(run_dir / REPLICAS_CSV), key=lambda s: s.time)
    waits, began = [], None
    for prev, cur in itertools.pairwise(samples):
        if prev.replicas == 0 and cur.replicas > 0:
            began = cur.time
        if began is not None and cur.serving > 0:
            waits.append(cur.time - began)
            began = None
    if not waits:
        raise ValueError(
            f"{run_dir}: replicas.csv shows no scale-up from zero; fix: pass --cold-start SECONDS"
        )
    value = statistics.median(waits)
    return value, f"{run_dir}: median of {len(waits)} scale-ups from zero to the first Ready replica"


def resolve(text: str) -> tuple[float, str]:
    """(seconds, where they came from) for the --cold-start value."""
    try:
        seconds: float | None = float(text)
    except ValueError:
        seconds = duration_or_none(text)
    if seconds is not None:
        return seconds, "--cold-start"
    path = Path(text)
    if path.is_dir():
        return from_run(path)
    if path.is_file():
        return from_timeline(path)
    raise ValueError(
        f"--cold-start {text!r}: neither a duration, a timeline JSON nor a run directory; "
        "fix: pass e.g. 90s or docs/reports/e2e-local-2026-12-06/cold-start.json"
    )
