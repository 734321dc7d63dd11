"""Structured logs: one JSON object per line on stderr.

Every record has `ts`, `level`, `logger` and `msg`; fields passed with
`extra={...}` are added as they are (the access log adds `request_id`,
`method`, `path`, `model`, `status`, `duration_ms`, `cache`, ...).
"""

from __future__ import annotations

import json
import logging
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
        return json.dumps(out, default=str)


def setup_logging(level: str = "info") -> None:
    """JSON lines on stderr for the whole process (gateway, aiohttp, redis)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"gateway.logLevel: {level!r} is not a level; use debug, info, warning or error")
    root.setLevel(numeric)
    # The JSON line carries none of these, so no record needs them: skip the
    # caller lookup (a stack walk), the pid syscall and the thread lookup on
    # every log call, as the logging HOWTO's "Optimization" section suggests.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
