"""The gateway's JSON access logs -> a trace, so `plan` can run on a deployment's own traffic.

The gateway writes one JSON object per line (gateway/logs.py); its access-log lines have
`logger: llmaz_serverless.gateway.access`, `ts` (when the answer ended, ISO 8601 UTC),
`duration_ms`, `path`, `status` and `model`. A request arrived at `ts - duration_ms`.
The access log carries no token counts today: `prompt_tokens` / `output_tokens` (or OpenAI's
`completion_tokens`) are read when a line has them, and left unknown otherwise (the planner then
uses its `--output-tokens` default for the service time). Lines of other loggers, health checks and
non-JSON lines (e.g. `kubectl logs` prefixes cut off) are skipped and counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmaz_serverless.openai_paths import ENDPOINTS
from llmaz_serverless.trace.formats import from_rows, parse_time
from llmaz_serverless.trace.model import Trace

ACCESS_LOGGER = "llmaz_serverless.gateway.access"
# Paths that are inference requests (sync, streaming or async submits); everything else is not traffic.
# Matched as suffixes without /v1, so a model's pathPrefix and the async API's prefix both match.
INFERENCE_SUFFIXES = tuple(e.path.removeprefix("/v1") for e in ENDPOINTS if e.model_in_body)


@dataclass
class LogScan:
    trace: Trace
    lines: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def _first(obj: dict[str, Any], *keys: str) -> Any:
    return next((obj[k] for k in keys if obj.get(k) not in (None, "")), None)


def trace_from_logs(paths: Iterable[Path], name: str | None = None) -> LogScan:
    """Read access-log lines from `paths` ("-" is not special: pass files) into one trace."""
    rows: list[tuple[str, dict[str, Any]]] = []
    scan = LogScan(Trace("", []))
    files = list(paths)
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                scan.lines += 1
                start = line.find("{")
                if start < 0:
                    scan.skip("not JSON")
                    continue
                try:
                    obj = json.loads(line[start:])
                except json.JSONDecodeError:
                    scan.skip("not JSON")
                    continue
                if not isinstance(obj, dict) or obj.get("logger") != ACCESS_LOGGER:
                    scan.skip("not an access-log line")
                    continue
                if not str(obj.get("path", "")).endswith(INFERENCE_SUFFIXES):
                    scan.skip("not an inference path")
                    continue
                try:
                    ended = parse_time(obj["ts"])
                    duration = float(obj.get("duration_ms") or 0.0) / 1000.0
                except (KeyError, TypeError, ValueError):
                    scan.skip("no readable ts/duration_ms")
                    continue
                rows.append((
                    f"{path}:{number}",
                    {
                        "timestamp": ended - duration,
                        "prompt_tokens": _first(obj, "prompt_tokens"),
                        "output_tokens": _first(obj, "output_tokens", "completion_tokens"),
                        "model": obj.get("model"),
                    },
                ))  # fmt: skip
    label = name or (files[0].name if len(files) == 1 else f"{len(files)} log files")
    scan.trace = from_rows(label, rows)
    return scan
