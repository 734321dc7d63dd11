"""Reading an OpenAI-style server-sent-event stream as it arrives.

A warmup request streams so that it exercises the server's streaming path and so
that the time to the first token is measured where it happens (not when the body
ends). The bytes become events in the package's one SSE decoder (llmaz_serverless.sse);
this module accounts what the events carry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from llmaz_serverless.sse import chunk_error, openai_chunk


class StreamError(Exception):
    """The server sent an error inside the stream or a chunk that is not JSON."""


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
        try:
            chunk = openai_chunk(payload)
        except json.JSONDecodeError as err:
            raise StreamError(f"stream chunk is not JSON: {payload[:200]!r}") from err
        except TypeError as err:
            raise StreamError(f"stream chunk is not a JSON object: {payload[:200]!r}") from err
        if chunk is None:
            self.done = True
            return
        message = chunk_error(chunk)
        if message is not None:
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
