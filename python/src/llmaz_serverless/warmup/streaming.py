"""Reading an OpenAI-style server-sent-event stream as it arrives.

A warmup request streams so that it exercises the server's streaming path and so
that the time to the first token is measured where it happens (not when the body
ends). The decoder is incremental: network chunks can split an event, a line, or
a multi-byte character anywhere.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from typing import Any


class StreamError(Exception):
    """The server sent an error inside the stream or a chunk that is not JSON."""


class SseDecoder:
    """Turns bytes into the `data` payloads of complete events (comments and other fields dropped)."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += self._text.decode(chunk)
        return self._drain(final=False)

    def close(self) -> list[str]:
        """Flush what is left: a last event without its blank line still counts."""
        self._buffer += self._text.decode(b"", final=True)
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[str]:
        events: list[str] = []
        while True:
            newline = self._next_line_end()
            if newline < 0:
                if final and self._buffer:
                    self._line(self._buffer.rstrip("\r"), events)
                    self._buffer = ""
                if final:
                    self._dispatch(events)
                return events
            line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
            self._line(line.rstrip("\r"), events)

    def _next_line_end(self) -> int:
        return self._buffer.find("\n")

    def _line(self, line: str, events: list[str]) -> None:
        if line == "":
            self._dispatch(events)
        elif line.startswith(":"):
            return  # comment / keep-alive
        elif line.startswith("data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)

    def _dispatch(self, events: list[str]) -> None:
        if self._data:
            events.append("\n".join(self._data))
            self._data = []


@dataclass
class StreamStats:
    """What one streamed completion produced, with the moments that matter."""

    # Seconds from sending the request to the first chunk carrying text.
    first_token_s: float | None = None
    # Chunks that carried text (one token each on vLLM/SGLang/llama.cpp).
    token_chunks: int = 0
    text: str = ""
    finish_reason: str | None = None
    # From the final `usage` chunk when the server sends one.
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    done: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, payload: str, elapsed_s: float) -> None:
        """Account one `data:` payload received `elapsed_s` after the request was sent."""
        if payload.strip() == "[DONE]":
            self.done = True
            return
        try:
            chunk = json.loads(payload)
        except json.JSONDecodeError as err:
            raise StreamError(f"stream chunk is not JSON: {payload[:200]!r}") from err
        if not isinstance(chunk, dict):
            raise StreamError(f"stream chunk is not a JSON object: {payload[:200]!r}")
        if "error" in chunk:
            error = chunk["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise StreamError(f"server error inside the stream: {message}")
        self.add_body(chunk, elapsed_s)

    def add_body(self, chunk: dict[str, Any], elapsed_s: float) -> None:
        """Account a chunk, or a whole non-streamed response (same shapes, `message` for chat)."""
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = usage.get("prompt_tokens", self.prompt_tokens)
            self.completion_tokens = usage.get("completion_tokens", self.completion_tokens)
        for choice in chunk.get("choices") or []:
            text = _choice_text(choice)
            if text:
                if self.first_token_s is None:
                    self.first_token_s = elapsed_s
                self.token_chunks += 1
                self.text += text
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]


def _choice_text(choice: dict[str, Any]) -> str:
    if isinstance(choice.get("text"), str):  # /v1/completions
        return str(choice["text"])
    for key in ("delta", "message"):  # /v1/chat/completions, streamed or not
        part = choice.get(key)
        if isinstance(part, dict):
            for field_name in ("content", "reasoning_content"):
                if isinstance(part.get(field_name), str) and part[field_name]:
                    return str(part[field_name])
    return ""
