"""Server-sent events (SSE) decoded as the bytes arrive: the `data` of each complete event.

The one SSE decoder of the package: the warmup client (warmup/streaming.py) and the load
test's client (loadtest/client.py) both read OpenAI streams through it. It follows the
WHATWG event-stream rules that an OpenAI stream uses:
- lines end in LF, CRLF or a lone CR;
- `data:` lines (one optional space after the colon) add to the event; several `data` lines
  join with LF; a line `data` with no colon adds an empty line;
- a blank line ends the event; an event without `data` (only `event:`, `id:`, `retry:`) yields
  nothing; lines starting with `:` are comments (keep-alives) and are dropped;
- `close()` flushes a last event that the server ended without its blank line.

Network reads may split a line, a CRLF or a multi-byte character anywhere: lines are cut on
bytes (LF and CR never occur inside a UTF-8 sequence) and decoded whole, so a split never
changes what comes out. Undecodable bytes become U+FFFD rather than failing the stream.

`[DONE]` is OpenAI's end-of-stream sentinel, not part of SSE: it comes out as an ordinary
event and `is_done` recognises it.
"""

from __future__ import annotations

import json
from typing import Any

# OpenAI's last `data` payload of a stream.
DONE = "[DONE]"


def is_done(data: str) -> bool:
    """Whether an event's data is OpenAI's end-of-stream sentinel (whitespace around it allowed)."""
    return data.strip() == DONE


def openai_chunk(data: str) -> dict[str, Any] | None:
    """The JSON object an OpenAI stream event carries; None for the `[DONE]` sentinel.

    Raises json.JSONDecodeError when the data is not JSON and TypeError when it is JSON but not
    an object: the readers differ in what they do about either (fail, or note it and go on).
    """
    if is_done(data):
        return None
    chunk = json.loads(data)
    if not isinstance(chunk, dict):
        raise TypeError(f"an OpenAI stream chunk is a JSON object, got {type(chunk).__name__}")
    return chunk


def chunk_error(chunk: dict[str, Any]) -> str | None:
    """The message of an error the server sent inside the stream (`{"error": ...}`), else None."""
    if "error" not in chunk:
        return None
    error = chunk["error"]
    return str(error.get("message", error) if isinstance(error, dict) else error)


class SseDecoder:
    """Feed it bytes as they arrive; each call returns the data of the events it completed."""

    __slots__ = ("_data", "_partial")

    def __init__(self) -> None:
        # The bytes of a line whose end has not arrived yet.
        self._partial = b""
        # The `data` values of the event being read.
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[str]:
        buffer = self._partial + chunk if self._partial else chunk
        # A CR at the end may be the first half of a CRLF: keep it until the next byte shows.
        held = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._partial = lines.pop() + held
        events: list[str] = []
        for line in lines:
            self._line(line, events)
        return events

    def close(self) -> list[str]:
        """Flush what is left: a last line without its end, and a last event without its blank line."""
        events: list[str] = []
        # What is left holds no line end but perhaps the held CR of `feed`.
        rest, self._partial = self._partial.rstrip(b"\r"), b""
        if rest:
            self._line(rest, events)
        self._dispatch(events)
        return events

    def _line(self, line: bytes, events: list[str]) -> None:
        if not line:
            self._dispatch(events)
        elif line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        elif line == b"data":
            self._data.append(b"")
        # Anything else is a comment or a field an OpenAI client does not use (event, id, retry).

    def _dispatch(self, events: list[str]) -> None:
        if self._data:
            events.append(b"\n".join(self._data).decode("utf-8", "replace"))
            self._data = []
