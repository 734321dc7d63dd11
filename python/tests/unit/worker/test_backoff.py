from __future__ import annotations

import random

from llmaz_serverless.worker.backoff import backoff_delay
from llmaz_serverless.worker.settings import BackoffSettings


def test_delay_doubles_per_attempt_and_stops_at_max_when_jitter_is_off() -> None:
    s = BackoffSettings(initial=1, multiplier=2, max=5, jitter=0)
    assert [backoff_delay(a, s) for a in range(1, 6)] == [1, 2, 4, 5, 5]


def test_jitter_only_lengthens_the_delay_and_stays_under_max_when_on() -> None:
    s = BackoffSettings(initial=2, multiplier=2, max=60, jitter=0.5)
    rng = random.Random(7)
    delays = [backoff_delay(2, s, rng) for _ in range(200)]
    assert min(delays) >= 4.0
    assert max(delays) <= 6.0
    assert len(set(delays)) > 100
