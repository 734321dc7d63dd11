"""Exponential backoff with jitter, shared by job retries and webhook retries."""

from __future__ import annotations

import random

from llmaz_serverless.worker.settings import BackoffSettings


def backoff_delay(attempt: int, settings: BackoffSettings, rng: random.Random | None = None) -> float:
    """Delay after failed attempt number `attempt` (1-based): initial * multiplier^(attempt-1), capped.

    Jitter only adds (up to `jitter` x the delay), so a delay is never shorter than the
    schedule promises, and a burst of failures does not retry in lockstep.
    """
    base = min(settings.max, settings.initial * settings.multiplier ** max(0, attempt - 1))
    spread = (rng or random).random() * settings.jitter * base
    return min(settings.max, base + spread) if settings.jitter else base
