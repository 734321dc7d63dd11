"""Structured logs: one JSON object per line on stderr.

Lines are written in batches by one thread off the event loop (see
`BatchedWriter`). Every record has `ts`, `level`, `logger` and `msg`; fields
passed with `extra={...}` are added as they are (the access log adds
`request_id`, `method`, `path`, `model`, `status`, `duration_ms`, `cache`, ...).
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

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
        return json.dumps(out, default=str)


# Lines waiting for the writer thread; beyond this they are dropped (and
# counted), so a stderr nobody reads never stalls or bloats the gateway.
QUEUE_RECORDS = 10_000
# The writer thread wakes at most this often and writes what gathered since.
FLUSH_SECONDS = 0.05


class BatchedWriter(logging.Handler):
    """Formats each record on the caller's thread and writes the lines in batches from one writer thread.

    A write to stderr is a syscall that can stall (a full pipe when the log
    collector lags, a file system flushing); on the event loop that stall
    would delay every stream in flight, so writes happen in a thread. Handing
    over each record on its own wakes that thread once per request; here the
    first line of a batch wakes it, it waits `flush_seconds` for more and
    writes them with one syscall (under the 64-stream benchmark load: 1-1.5
    fewer context switches per request; latency the same within noise, see
    docs/benchmarks/gateway.md). Lines are built on the caller's thread, so a
    live traceback never crosses threads.
    """

    def __init__(self, stream: TextIO, flush_seconds: float = FLUSH_SECONDS) -> None:
        super().__init__()
        # Handler.__init__ always creates self.lock (typeshed allows None); emit() runs under it.
        assert self.lock is not None
        self._lock = self.lock
        self.setFormatter(JsonFormatter())
        self.stream = stream
        self.flush_seconds = flush_seconds
        self.lines: list[str] = []
        self.dropped = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._write_batches, name="log-writer", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        # Handler.handle holds self.lock here; the writer swaps the list under it.
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        if len(self.lines) >= QUEUE_RECORDS:
            self.dropped += 1
            return
        if self.dropped:
            self.lines.append(self._dropped_note())
            self.dropped = 0
        self.lines.append(line)
        if not self._wake.is_set():
            self._wake.set()

    def _dropped_note(self) -> str:
        note = logging.makeLogRecord(
            {"name": __name__, "levelno": logging.WARNING, "levelname": "WARNING",
             "msg": f"dropped {self.dropped} log records: stderr was not read fast enough"}
        )  # fmt: skip
        return self.format(note)

    def _write_batches(self) -> None:
        while True:
            self._wake.wait()
            if not self._stopping:
                time.sleep(self.flush_seconds)  # let the rest of this batch gather
            with self._lock:
                lines, self.lines = self.lines, []
                self._wake.clear()
                stopping = self._stopping
            if lines:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass  # stderr closed: nothing left to tell
            if stopping:
                return

    def close(self) -> None:
        """Write out every queued line and stop the writer thread."""
        with self._lock:
            self._stopping = True
            self._wake.set()
        self._thread.join(timeout=5)
        super().close()


_writer: BatchedWriter | None = None


def setup_logging(level: str = "info") -> None:
    """JSON lines on stderr for the whole process (gateway, aiohttp, redis), written by a thread."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"gateway.logLevel: {level!r} is not a level; use debug, info, warning or error")
    global _writer
    stop_logging()
    _writer = BatchedWriter(sys.stderr)
    root = logging.getLogger()
    root.handlers[:] = [_writer]
    root.setLevel(numeric)
    # The JSON line carries none of these, so no record needs them: skip the
    # caller lookup (a stack walk), the pid syscall and the thread lookup on
    # every log call, as the logging HOWTO's "Optimization" section suggests.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


@atexit.register
def stop_logging() -> None:
    """Write out every queued line and stop the writer thread (also run at exit)."""
    global _writer
    if _writer is not None:
        _writer.close()
        _writer = None
