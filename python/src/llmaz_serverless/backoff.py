"""Retry delays: one values shape and one schedule for every component that retries.

The gateway's upstream retries, the warmup client, job retries and webhook
deliveries all wait with `Backoff`: `initial`, then `initial x multiplier` per
further retry, capped at `max`, with `jitter` randomising part of each delay.
Components differ only in their defaults (subclasses below each component's
settings), never in the keys or the arithmetic.

Jitter scheme: the delay is drawn from [(1 - jitter) x d, d], where d is the
capped exponential delay. It only shortens, so `max` stays a hard ceiling (the
Redis broker relies on that: a retry waits as an idle pending entry, claimed
after `claimIdle`), and `jitter: 1` is AWS's "full jitter", which spreads a
burst of retrying clients best (warmup replicas hitting one waking model);
`jitter: 0` is the plain deterministic schedule the gateway uses inside a
request's cold-start budget.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Annotated

from pydantic import Field

from llmaz_serverless.config import CamelModel, Duration

# The type of `jitter`, bounds included: a component's subclass that only changes the default
# writes `jitter: Jitter = 0.0` and keeps the bounds (a redeclared field replaces the parent's).
Jitter = Annotated[float, Field(ge=0.0, le=1.0)]


class Backoff(CamelModel):
    # Delay before the first retry; each later retry multiplies it by `multiplier`.
    initial: Duration = 1.0
    # Upper bound of one delay, also of a server's Retry-After where it is honoured.
    max: Duration = 30.0
    # Growth factor between retries (2 doubles the delay each time; 1 keeps it constant).
    multiplier: float = Field(default=2.0, ge=1.0)
    # Fraction of each delay that is random: the delay is drawn between (1 - jitter)
    # and 1 times the schedule, so retries of a burst spread out (0: exact schedule,
    # 1: anywhere between 0 and the schedule).
    jitter: Jitter = 0.1

    def delay(self, retry: int, rng: random.Random | None = None, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry, after one failure).

        `retry_after` (a server's Retry-After, in seconds) raises the delay to it,
        but never above `max`: a server asking for an hour does not stall us an hour.
        """
        scheduled = min(self.max, self.initial * self.multiplier ** max(0, retry - 1))
        wait = scheduled * (1.0 - self.jitter * (rng or random).random()) if self.jitter else scheduled
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max))
        return wait

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The delays before retry 1, 2, 3, ... (endless: the caller's budget or attempts end it)."""
        retry = 1
        while True:
            yield self.delay(retry, rng)
            retry += 1
