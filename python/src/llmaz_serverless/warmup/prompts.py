"""Warmup prompts generated to a token count, without the model's tokenizer.

The controller has no tokenizer for the model it warms, so prompts are built from
short, common English words that BPE and SentencePiece vocabularies hold as one
token each when preceded by a space: N words come out at roughly N tokens (the
server's `usage.prompt_tokens` reports the exact count, and the warmup report
carries it). Words are drawn from a seeded generator so that prompts of the same
length differ between replicas and runs and a prefix cache cannot turn a long
warmup prefill into a cheap one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Frequent words that are single tokens in the GPT-2/Llama/Qwen style vocabularies.
_WORD_TEXT = (
    "the of and to in is was for on that with as by at from it his an were are which this be has"
    " or had not but one their they he first its new after who all two also been have more when"
    " time other into year over may her can only some would most used where many city during"
    " three made part such well him world state then than years later between under high these"
    " work known early while name both long life people through number same each before against"
    " system small water light house place green blue river road north south east west stone field"
)
_WORDS = tuple(_WORD_TEXT.split())


@dataclass(frozen=True)
class Prompt:
    text: str
    # The length asked for; the server's count can differ by a few tokens.
    target_tokens: int
    max_tokens: int


def prompt_text(tokens: int, seed: int) -> str:
    """About `tokens` tokens of plain words, different for every seed."""
    rng = random.Random(seed)
    return " ".join(rng.choice(_WORDS) for _ in range(max(tokens, 1)))


def build_prompts(lengths: list[tuple[int, int]], seed: int) -> list[Prompt]:
    """One prompt per (prompt tokens, max tokens) pair, in the order given."""
    return [
        Prompt(text=prompt_text(tokens, seed * 1009 + index), target_tokens=tokens, max_tokens=max_tokens)
        for index, (tokens, max_tokens) in enumerate(lengths)
    ]
