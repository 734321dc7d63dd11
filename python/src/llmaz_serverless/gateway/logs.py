"""Structured logs: one JSON object per line on stderr.

Lines are written by one thread off the event loop (see `_Handoff`). Every
record has `ts`, `level`, `logger` and `msg`; fields passed with
`extra={...}` are added as they are (the access log adds `request_id`,
`method`, `path`, `model`, `status`, `duration_ms`, `cache`, ...).
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else came from `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:  # rendered before the record crossed to the writer thread
            out["exc"] = record.exc_text
        return json.dumps(out, default=str)


# Records waiting for the writer thread; beyond this they are dropped (and
# counted), so a stderr nobody reads never stalls or bloats the gateway.
QUEUE_RECORDS = 10_000


class _Handoff(logging.handlers.QueueHandler):
    """Hands records to the writer thread; the event loop never blocks on stderr.

    A write to stderr is a syscall that can stall (a full pipe when the log
    collector lags, a file system flushing); on the event loop that stall
    delays every stream in flight (docs/benchmarks/gateway.md has the runs:
    written on the loop, the access log cost about 0.2 ms of added p99).
    """

    def __init__(self, records: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(records)
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # Render now what must not cross threads (arguments, a live traceback);
        # the JSON line itself is built in the writer thread.
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            record.exc_info = None
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            if self.dropped:
                note = logging.makeLogRecord(
                    {"name": __name__, "levelno": logging.WARNING, "levelname": "WARNING",
                     "msg": f"dropped {self.dropped} log records: stderr was not read fast enough"}
                )  # fmt: skip
                self.queue.put_nowait(note)
                self.dropped = 0
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


_TRACEBACKS = logging.Formatter()
_listener: logging.handlers.QueueListener | None = None


def setup_logging(level: str = "info") -> None:
    """JSON lines on stderr for the whole process (gateway, aiohttp, redis), written by a thread."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"gateway.logLevel: {level!r} is not a level; use debug, info, warning or error")
    global _listener
    stop_logging()
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(JsonFormatter())
    records: queue.Queue[logging.LogRecord] = queue.Queue(QUEUE_RECORDS)
    root = logging.getLogger()
    root.handlers[:] = [_Handoff(records)]
    root.setLevel(numeric)
    _listener = logging.handlers.QueueListener(records, writer)
    _listener.start()
    # The JSON line carries none of these, so no record needs them: skip the
    # caller lookup (a stack walk), the pid syscall and the thread lookup on
    # every log call, as the logging HOWTO's "Optimization" section suggests.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


@atexit.register
def stop_logging() -> None:
    """Write out every queued record and stop the writer thread (also run at exit)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None
