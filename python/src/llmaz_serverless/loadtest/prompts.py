"""OpenAI request bodies with prompts of a chosen length.

The prompt is made of short common words, which common tokenizers count as
about one token each, so `prompt_tokens` is an approximation of what the
server will count (the raw CSV keeps both: what we asked and, when the server
reports usage, what it counted). Each prompt starts with a random tag so two
requests never share a prompt and a response cache cannot serve them.
"""

from __future__ import annotations

import random
from typing import Any

from llmaz_serverless.openai_paths import CHAT, COMPLETIONS

# Short words that are one token in the GPT-2/Llama/Qwen vocabularies.
_WORDS = (
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "on",
    "with",
    "as",
    "at",
    "by",
    "from",
    "this",
    "that",
    "it",
    "be",
    "are",
    "was",
    "or",
    "an",
    "not",
    "which",
    "have",
    "one",
    "all",
    "can",
    "has",
    "more",
    "will",
    "about",
    "time",
    "when",
    "there",
    "so",
    "out",
    "up",
    "into",
    "some",
    "other",
    "than",
    "then",
    "also",
    "new",
    "first",
    "two",
    "may",
    "any",
    "these",
    "work",
    "well",
    "way",
    "only",
    "use",
    "many",
    "over",
)


def prompt_text(tokens: int, rng: random.Random) -> str:
    """A prompt of about `tokens` tokens; the first few are a unique tag."""
    tag = f"run{rng.getrandbits(40):x}"
    words = [rng.choice(_WORDS) for _ in range(max(0, tokens - 2))]
    return " ".join([tag, ":", *words])


def request_body(
    api: str,
    model: str,
    prompt: str,
    max_tokens: int,
    stream: bool,
    temperature: float,
) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) for `api` "chat" or "completions"."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "stream": stream,
    }
    if stream:
        # Ask for a final usage chunk: servers that honour it (vLLM does) report the
        # exact token counts; the client falls back to counting content chunks.
        body["stream_options"] = {"include_usage": True}
    if api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
        return CHAT.path, body
    if api == "completions":
        body["prompt"] = prompt
        return COMPLETIONS.path, body
    raise ValueError(f"api {api!r}: expected 'chat' or 'completions'")
