"""A run directory as the report sees it.

RUN_DIR/
  requests.csv   one row per request (loadtest/records.py)
  replicas.csv   replica samples (may be absent when no source was available)
  run.json       where, when, versions, the exact command, the profile
  schedule.json  the traffic shape's phases (written by the locust shape)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmaz_serverless.loadtest.records import (
    REPLICAS_CSV,
    REQUESTS_CSV,
    RUN_JSON,
    SCHEDULE_JSON,
    ReplicaSample,
    RequestRecord,
    read_replicas,
    read_requests,
)


class RunDirError(ValueError):
    """The directory is not a complete run; the message names the missing file and how to get it."""


@dataclass
class RunData:
    path: Path
    meta: dict[str, Any]
    records: list[RequestRecord]
    samples: list[ReplicaSample]
    schedule: dict[str, Any] = field(default_factory=dict)

    @property
    def window(self) -> tuple[float, float]:
        """[start, end] of the load (Unix seconds), from run.json, else from the requests."""
        start = self.meta.get("started_at")
        end = self.meta.get("ended_at")
        if start is None or end is None:
            ends = [r.end for r in self.records if r.end is not None]
            start = start if start is not None else min((r.start for r in self.records), default=0.0)
            end = end if end is not None else max(ends, default=start)
        return float(start), float(end)

    @property
    def models(self) -> list[str]:
        return sorted({r.model for r in self.records} | {s.model for s in self.samples})


def load_run(path: str | Path) -> RunData:
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise RunDirError(
            f"{run_dir}: not a directory; pass a run directory written by `llmaz-serverless loadtest`"
        )
    requests_csv = run_dir / REQUESTS_CSV
    if not requests_csv.exists():
        raise RunDirError(
            f"{requests_csv}: missing; the run sent no request or was not made by `llmaz-serverless loadtest`"
        )
    meta_path = run_dir / RUN_JSON
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    schedule_path = run_dir / SCHEDULE_JSON
    schedule = json.loads(schedule_path.read_text(encoding="utf-8")) if schedule_path.exists() else {}
    return RunData(
        path=run_dir,
        meta=meta,
        records=read_requests(requests_csv),
        samples=read_replicas(run_dir / REPLICAS_CSV),
        schedule=schedule,
    )
