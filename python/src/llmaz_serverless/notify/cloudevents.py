"""The CloudEvents 1.0 envelope of a job notification (structured JSON mode).

Attributes: `id` is stable per job and outcome, so a receiver can drop
duplicates of an at-least-once delivery; `type` tells success from failure;
`subject` is the job id; `data` holds the status, and the result itself when
it is small, or where to fetch it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

CONTENT_TYPE = "application/cloudevents+json"
EVENT_TYPES = {
    "succeeded": "io.llmaz.serverless.async.job.succeeded",
    "failed": "io.llmaz.serverless.async.job.failed",
}


def job_event(
    status: dict[str, Any],
    *,
    source: str,
    result: Any = None,
    result_url: str | None = None,
    status_url: str | None = None,
) -> dict[str, Any]:
    state = status["state"]
    data: dict[str, Any] = {
        "id": status["id"],
        "model": status.get("model"),
        "status": state,
        "attempts": status.get("attempts", 0),
        "createdAt": status.get("createdAt"),
        "completedAt": status.get("completedAt"),
    }
    if status_url:
        data["statusUrl"] = status_url
    if state == "succeeded":
        location = status.get("result") or {}
        data["resultLocation"] = {
            k: v for k, v in location.items() if k in ("store", "uri", "bytes", "contentType")
        }
        if result_url:
            data["resultUrl"] = result_url
        if result is not None:
            data["result"] = result
    else:
        data["error"] = status.get("error")
    completed = status.get("completedAt")
    when = datetime.fromtimestamp(completed, UTC) if completed else datetime.now(UTC)
    return {
        "specversion": "1.0",
        "id": f"{status['id']}.{state}",
        "source": source,
        "type": EVENT_TYPES[state],
        "subject": status["id"],
        "time": when.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": data,
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()
