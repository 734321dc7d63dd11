"""The gateway's access log -> a trace: arrival = end - duration; other lines skipped and counted."""

from __future__ import annotations

import json
from pathlib import Path

from llmaz_serverless.trace.logs import ACCESS_LOGGER, trace_from_logs


def _line(ts: str, duration_ms: float, path: str = "/v1/chat/completions", **extra: object) -> str:
    return json.dumps({"ts": ts, "level": "info", "logger": ACCESS_LOGGER, "msg": "request", "path": path,
                       "status": 200, "duration_ms": duration_ms, **extra})  # fmt: skip


def test_access_lines_become_arrivals(tmp_path: Path) -> None:
    log = tmp_path / "gw.log"
    log.write_text(
        "\n".join(
            [
                _line("2026-12-06T10:00:02.000+00:00", 1500, model="llama", completion_tokens=40),
                "2026-12-06T10:00:03Z stdout F " + _line("2026-12-06T10:00:05.000+00:00", 1000, model="qwen"),
                _line("2026-12-06T10:00:06.000+00:00", 1, path="/healthz"),
                json.dumps(
                    {"ts": "2026-12-06T10:00:07Z", "logger": "llmaz_serverless.gateway", "msg": "started"}
                ),
                "plain text",
            ]
        )
    )
    scan = trace_from_logs([log])
    arrivals = scan.trace.arrivals
    assert [(a.t, a.model, a.output_tokens) for a in arrivals] == [(0.0, "llama", 40), (3.5, "qwen", None)]
    assert scan.lines == 5
    assert scan.skipped == {"not an inference path": 1, "not an access-log line": 1, "not JSON": 1}
