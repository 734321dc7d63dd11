"""Read a trace file: the project's CSV or JSONL format, or the Azure LLM inference trace as published.

The project's format (docs/design/planner.md#trace-format), one request per row or line:

    timestamp,prompt_tokens,output_tokens,model
    0.000,1020,129,llama-3-8b
    2.315,374,44,llama-3-8b

- `timestamp` (required): seconds (a number; any origin, e.g. epoch seconds) or an ISO 8601 time
  (`2026-12-06T14:28:04.805Z`; no offset means UTC);
- `prompt_tokens`, `output_tokens` (optional, integers >= 0; empty when unknown);
- `model` (optional): the OpenAI `model` name;
- `event` (optional): when set, the row is not a request but a CloudEvent the gateway received:
  its `type` (CSV), or in JSONL an object of its attributes (`{"type": ..., "source": ...}`).
  The planner opens the pre-warm windows of the event rules that match it.

JSONL uses the same keys, one JSON object per line. The Azure trace
(`TIMESTAMP,ContextTokens,GeneratedTokens`, times like `2023-11-16 18:15:46.6805900` in UTC)
is recognised by its header and read as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from llmaz_serverless.trace.model import Arrival, Trace

AZURE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
AZURE_ATTRIBUTION = (
    "Azure LLM inference trace 2023 (Azure Public Dataset; Patel et al., Splitwise, ISCA 2024), "
    "licensed CC-BY 4.0"
)
_COLUMNS = ("timestamp", "prompt_tokens", "output_tokens", "model")
_EVENT = "event"
# More than 6 fractional digits (the Azure trace has 7): Python's ISO parser takes at most 6.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


class TraceError(ValueError):
    """A trace that cannot be read; the message names the file, the line, the field and the fix."""


def parse_time(value: Any) -> float:
    """Seconds of a number, or epoch seconds of an ISO 8601 time (UTC without an offset)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    text = _LONG_FRACTION.sub(r"\1", text.replace("Z", "+00:00"))
    stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _tokens(value: Any, where: str, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number < 0 or not number.is_integer():
        raise TraceError(
            f"{where}: {name} {value!r} is not a whole number >= 0; "
            "fix: write a token count or leave it empty"
        )
    return int(number)


def _row(raw: dict[str, Any], where: str, keys: tuple[str, str, str, str]) -> tuple[float, Arrival]:
    ts_key, prompt_key, output_key, model_key = keys
    if raw.get(ts_key) in (None, ""):
        raise TraceError(f"{where}: {ts_key} is missing; fix: every request needs its arrival time")
    try:
        stamp = parse_time(raw[ts_key])
    except (TypeError, ValueError):
        raise TraceError(
            f"{where}: {ts_key} {raw[ts_key]!r} is neither seconds nor an ISO 8601 time; "
            "fix: write e.g. 12.5 or 2026-12-06T14:28:04Z"
        ) from None
    model = raw.get(model_key)
    return stamp, Arrival(
        0.0,
        _tokens(raw.get(prompt_key), where, prompt_key),
        _tokens(raw.get(output_key), where, output_key),
        str(model) if model not in (None, "") else None,
    )


def _csv_rows(path: Path) -> tuple[Iterator[tuple[str, dict[str, Any]]], bool]:
    fh = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed when the generator ends
    reader = csv.DictReader(fh)
    header = tuple(reader.fieldnames or ())
    azure = all(c in header for c in AZURE_COLUMNS)
    if not azure and "timestamp" not in header:
        fh.close()
        raise TraceError(
            f"{path}: header {','.join(header) or '(empty)'} has no `timestamp` column; fix: use "
            f"`{','.join(_COLUMNS)}` (docs/design/planner.md#trace-format) or the Azure trace's "
            f"`{','.join(AZURE_COLUMNS)}`"
        )

    def rows() -> Iterator[tuple[str, dict[str, Any]]]:
        with fh:
            for row in reader:
                yield f"{path}:{reader.line_num}", row

    return rows(), azure


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise TraceError(f"{where}: not JSON ({err.msg}); fix: one JSON object per line") from None
            if not isinstance(obj, dict):
                raise TraceError(f"{where}: expected a JSON object, got {type(obj).__name__}")
            yield where, obj


def _event(value: Any, where: str) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return {"type": value}
    raise TraceError(f"{where}: event {value!r} is neither a type nor an object; fix: write its type")


def from_rows(name: str, rows: Iterable[tuple[str, dict[str, Any]]], azure: bool = False) -> Trace:
    keys = (*AZURE_COLUMNS, "model") if azure else _COLUMNS
    stamped, events = [], []
    for where, raw in rows:
        stamp, arrival = _row(raw, where, keys)
        event = _event(raw.get(_EVENT), where)
        if event is None:
            stamped.append((stamp, arrival))
        else:
            events.append((stamp, event))
    if not stamped:
        raise TraceError(f"{name}: no requests in the trace; fix: pass a trace with at least one row")
    stamped.sort(key=lambda pair: pair[0])
    origin = stamped[0][0]
    arrivals = [Arrival(stamp - origin, a.prompt_tokens, a.output_tokens, a.model) for stamp, a in stamped]
    # Seconds since 1 Jan 2000 and later are taken for wall-clock times (cron windows can use them).
    start_epoch = origin if origin > 946_684_800 else None
    timed_events = sorted(((stamp - origin, e) for stamp, e in events), key=lambda pair: pair[0])
    return Trace(
        name, arrivals, start_epoch, attribution=AZURE_ATTRIBUTION if azure else "", events=timed_events
    )


def read_trace(path: str | Path) -> Trace:
    """The trace in `path` (.csv or .jsonl), arrivals sorted, t = 0 at the first request."""
    path = Path(path)
    if not path.is_file():
        raise TraceError(f"{path}: no such file; fix: pass a trace file (.csv or .jsonl)")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return from_rows(path.name, _jsonl_rows(path))
    if path.suffix.lower() != ".csv":
        raise TraceError(f"{path}: unknown trace type {path.suffix!r}; fix: use .csv or .jsonl")
    rows, azure = _csv_rows(path)
    return from_rows(path.name, rows, azure)


def write_trace(trace: Trace, path: str | Path) -> Path:
    """Write `trace` in the project's CSV format (timestamps in seconds from its start)."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow((*_COLUMNS, _EVENT) if trace.events else _COLUMNS)
        for a in trace.arrivals:
            writer.writerow([
                f"{a.t:.3f}", "" if a.prompt_tokens is None else a.prompt_tokens,
                "" if a.output_tokens is None else a.output_tokens, a.model or "",
            ])  # fmt: skip
        # CSV keeps an event's type only (the column the planner's patterns mostly test).
        for t, event in trace.events:
            writer.writerow([f"{t:.3f}", "", "", "", str(event.get("type", ""))])
    return path
