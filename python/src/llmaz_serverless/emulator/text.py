"""Prompt length and generated text of the emulator.

There is no tokenizer: whitespace-separated words stand in for tokens, and a
prompt given as token ids counts one per id. Output tokens are words drawn
from a fixed vocabulary: with temperature 0 (greedy) the draw is seeded by the
model and the prompt, so the same request always yields the same text, which
is what the gateway's response cache relies on.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

_VOCABULARY = (
    "the", "a", "model", "server", "scales", "from", "zero", "to", "one", "and", "back", "when",
    "idle", "request", "token", "stream", "cold", "start", "warm", "replica", "queue", "latency",
    "cache", "gateway", "route", "interceptor", "prompt", "answer", "fast", "slow", "kube", "node",
    "pod", "ready", "load", "weights", "batch", "prefill", "decode", "sample", "greedy", "result",
    "event", "worker", "shard", "memory", "budget", "minute", "second", "cost", "save", "keep",
    "serve", "hold", "wake",
)  # fmt: skip


def count_text_tokens(text: str) -> int:
    return len(text.split())


def prompt_tokens_of_completion(body: dict[str, Any]) -> int:
    """Prompt length of a /v1/completions body: a string, a list of strings, or token ids."""
    prompt = body.get("prompt", "")
    if isinstance(prompt, str):
        return count_text_tokens(prompt)
    if isinstance(prompt, list):
        total = 0
        for item in prompt:
            if isinstance(item, str):
                total += count_text_tokens(item)
            elif isinstance(item, int):
                total += 1
            elif isinstance(item, list):
                total += len(item)
        return total
    return 0


def prompt_tokens_of_chat(body: dict[str, Any]) -> int:
    """Prompt length of a /v1/chat/completions body (text parts of every message)."""
    total = 0
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            total += count_text_tokens(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += count_text_tokens(part["text"])
        total += 1  # the role marker a chat template adds
    return total


def is_greedy(body: dict[str, Any]) -> bool:
    temperature = body.get("temperature")
    # vLLM's default temperature is 1.0; only an explicit 0 is greedy.
    return isinstance(temperature, int | float) and not isinstance(temperature, bool) and temperature == 0


def make_rng(model: str, body: dict[str, Any], prompt_key: Any, server_rng: random.Random) -> random.Random:
    """The random source of one choice set: fixed by the prompt when greedy or seeded."""
    if is_greedy(body) or isinstance(body.get("seed"), int):
        digest = hashlib.sha256(
            json.dumps([model, prompt_key, body.get("seed")], sort_keys=True, default=str).encode()
        ).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))
    return random.Random(server_rng.getrandbits(64))


def generate_tokens(rng: random.Random, count: int) -> list[str]:
    """`count` output tokens, each a word with its leading space (like BPE pieces)."""
    choice = rng.choice
    return [" " + choice(_VOCABULARY) for _ in range(count)]
