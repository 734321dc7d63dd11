"""The raw per-request CSV (`requests.csv`) and the replicas CSV (`replicas.csv`).

Every number in a report is computed from these two files and `run.json`, so
they are the contract between the load generator and `llmaz-serverless report`.
Times are Unix seconds (wall clock, so they line up with replica samples taken
by another process); durations are seconds measured with a monotonic clock.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

REQUESTS_CSV = "requests.csv"
REPLICAS_CSV = "replicas.csv"
RUN_JSON = "run.json"
PROFILE_JSON = "profile.json"  # what the users send (runner -> locust)
SCHEDULE_JSON = "schedule.json"  # the shape's phases (locust -> report)
LOCUST_TIMES_JSON = "locust_times.json"  # the load window (locust -> runner)


@dataclass
class RequestRecord:
    # Unique id we sent as X-Request-Id.
    request_id: str
    # chat | completions | async
    kind: str
    model: str
    stream: bool
    # Wall-clock time the request was sent.
    start: float
    # Seconds until the response headers arrived (for async: until the submit was accepted).
    ttfb_s: float | None = None
    # Seconds until the first generated token (streaming only).
    ttft_s: float | None = None
    # Seconds until the response was complete (for async: until the result was available).
    total_s: float | None = None
    # HTTP status of the response (for async: of the final status call); 0 if none arrived.
    http_status: int = 0
    # "ok" or "error".
    outcome: str = "error"
    # Short error kind: http_<status>, timeout, connection, stream_error, bad_response, async_failed.
    error: str = ""
    error_detail: str = ""
    prompt_tokens: int = 0  # what we asked for (approximate, see prompts.py)
    max_tokens: int = 0
    server_prompt_tokens: int | None = None  # what the server counted (usage), if it said
    output_tokens: int = 0  # usage.completion_tokens, or content chunks counted
    # Every gap between two consecutive content chunks, milliseconds.
    itl_ms: list[float] = field(default_factory=list)
    # X-Cache header from the gateway (HIT/MISS), if any.
    cache: str = ""

    @property
    def end(self) -> float | None:
        return None if self.total_s is None else self.start + self.total_s


REQUEST_COLUMNS = [f.name for f in fields(RequestRecord)]
REPLICA_COLUMNS = ["time", "model", "replicas", "ready", "desired", "source"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, list):
        return ";".join(f"{v:.3f}" for v in value)
    return str(value)


class CsvAppender:
    """Appends rows to a CSV with its header, one flushed write per row.

    Safe across threads and greenlets of one process: each row is formatted
    first and written in one call under a lock, so a reader tailing the file
    (the runner's progress display) never sees half a row.
    """

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns
        self._lock = threading.Lock()
        new = not path.exists() or path.stat().st_size == 0
        self._fh: IO[str] = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        if new:
            self._write([*columns])

    def _write(self, cells: list[str]) -> None:
        buf = io.StringIO()
        csv.writer(buf).writerow(cells)
        with self._lock:
            self._fh.write(buf.getvalue())
            self._fh.flush()

    def append(self, row: dict[str, Any]) -> None:
        self._write([_cell(row.get(c)) for c in self.columns])

    def close(self) -> None:
        with self._lock:
            self._fh.close()


def append_request(appender: CsvAppender, record: RequestRecord) -> None:
    appender.append(asdict(record))


def _float(text: str) -> float | None:
    return float(text) if text != "" else None


def read_requests(path: Path) -> list[RequestRecord]:
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.append(
                RequestRecord(
                    request_id=row["request_id"],
                    kind=row["kind"],
                    model=row["model"],
                    stream=row["stream"] == "1",
                    start=float(row["start"]),
                    ttfb_s=_float(row["ttfb_s"]),
                    ttft_s=_float(row["ttft_s"]),
                    total_s=_float(row["total_s"]),
                    http_status=int(row["http_status"] or 0),
                    outcome=row["outcome"],
                    error=row["error"],
                    error_detail=row["error_detail"],
                    prompt_tokens=int(row["prompt_tokens"] or 0),
                    max_tokens=int(row["max_tokens"] or 0),
                    server_prompt_tokens=int(row["server_prompt_tokens"])
                    if row["server_prompt_tokens"]
                    else None,
                    output_tokens=int(row["output_tokens"] or 0),
                    itl_ms=[float(v) for v in row["itl_ms"].split(";") if v],
                    cache=row["cache"],
                )
            )
    return out


@dataclass(frozen=True)
class ReplicaSample:
    time: float
    model: str
    # Replicas that exist (loading or ready): what is billed.
    replicas: int
    # Replicas ready to serve, when the source knows (None: same as replicas).
    ready: int | None = None
    # What the autoscaler asked for, when the source knows.
    desired: int | None = None
    source: str = ""

    @property
    def serving(self) -> int:
        return self.replicas if self.ready is None else self.ready


def read_replicas(path: Path) -> list[ReplicaSample]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [
            ReplicaSample(
                time=float(row["time"]),
                model=row["model"],
                replicas=int(row["replicas"]),
                ready=int(row["ready"]) if row["ready"] else None,
                desired=int(row["desired"]) if row["desired"] else None,
                source=row["source"],
            )
            for row in csv.DictReader(fh)
        ]
