"""The one retry schedule: growth, ceiling, jitter range and Retry-After, and each component's defaults."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from llmaz_serverless.backoff import Backoff
from llmaz_serverless.gateway.settings import UpstreamBackoff
from llmaz_serverless.warmup.settings import WarmupBackoff
from llmaz_serverless.worker.settings import JobBackoff


def test_delay_grows_by_the_multiplier_and_stops_at_max_when_jitter_is_off() -> None:
    b = Backoff(initial=1, multiplier=2, max=5, jitter=0)
    assert [b.delay(retry) for retry in range(1, 6)] == [1, 2, 4, 5, 5]


def test_multiplier_one_keeps_the_delay_constant() -> None:
    b = Backoff(initial="250ms", multiplier=1, max="1m", jitter=0)
    assert [b.delay(retry) for retry in range(1, 4)] == [0.25, 0.25, 0.25]


def test_delays_iterates_the_same_schedule_as_delay() -> None:
    b = Backoff(initial=0.5, multiplier=3, max=10, jitter=0)
    delays = b.delays()
    assert (
        [next(delays) for _ in range(5)]
        == [b.delay(retry) for retry in range(1, 6)]
        == [0.5, 1.5, 4.5, 10, 10]
    )


def test_jitter_only_shortens_the_delay_within_its_fraction_when_on() -> None:
    b = Backoff(initial=2, multiplier=2, max=60, jitter=0.5)
    rng = random.Random(7)
    delays = [b.delay(2, rng) for _ in range(500)]
    assert 2.0 <= min(delays) < 2.1  # (1 - 0.5) x 4 s, reached
    assert 3.9 < max(delays) <= 4.0  # never above the schedule
    assert len(set(delays)) > 400


def test_full_jitter_spreads_delays_between_zero_and_the_ceiling() -> None:
    b = Backoff(initial=0.5, multiplier=2, max=4, jitter=1)
    rng = random.Random(1)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (7, 4.0)]:
        delays = [b.delay(retry, rng) for _ in range(300)]
        assert 0.0 <= min(delays) < ceiling * 0.1
        assert ceiling * 0.9 < max(delays) <= ceiling


def test_same_seed_gives_the_same_delays() -> None:
    b = Backoff(jitter=0.3)
    first = b.delays(random.Random(42))
    second = b.delays(random.Random(42))
    assert [next(first) for _ in range(6)] == [next(second) for _ in range(6)]


def test_retry_after_raises_the_delay_but_never_above_max() -> None:
    b = Backoff(initial=0.01, max=5, jitter=1)
    rng = random.Random(2)
    assert b.delay(1, rng, retry_after=2.0) == 2.0
    assert b.delay(1, rng, retry_after=120.0) == 5.0
    # A Retry-After shorter than the schedule does not shorten it.
    assert Backoff(initial=3, max=5, jitter=0).delay(1, retry_after=1.0) == 3.0


@pytest.mark.parametrize(
    ("field", "value"), [("multiplier", 0.5), ("jitter", 1.5), ("jitter", -0.1), ("initial", "soon")]
)
def test_bad_values_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Backoff.model_validate({field: value})


def test_components_share_the_shape_and_keep_their_own_defaults() -> None:
    # A partial override keeps the component's other defaults, not the generic ones.
    assert WarmupBackoff.model_validate({"max": "1m"}).model_dump() == {
        "initial": 0.5,
        "max": 60.0,
        "multiplier": 2.0,
        "jitter": 1.0,
    }
    assert UpstreamBackoff().model_dump() == {"initial": 0.25, "max": 2.0, "multiplier": 2.0, "jitter": 0.0}
    assert JobBackoff().model_dump() == {"initial": 2.0, "max": 60.0, "multiplier": 2.0, "jitter": 0.1}
    for cls in (UpstreamBackoff, WarmupBackoff, JobBackoff):
        assert issubclass(cls, Backoff)
        assert set(cls.model_fields) == set(Backoff.model_fields)
        assert cls.delay is Backoff.delay


def test_camel_case_keys_are_the_only_shape() -> None:
    with pytest.raises(ValidationError, match="base"):
        WarmupBackoff.model_validate({"base": "1s"})


@pytest.mark.parametrize("cls", [UpstreamBackoff, WarmupBackoff, JobBackoff])
@pytest.mark.parametrize("jitter", [1.5, -0.1])
def test_components_keep_the_jitter_bounds(cls: type[Backoff], jitter: float) -> None:
    # A subclass that redeclares `jitter` for its default must not lose the 0..1 bounds.
    with pytest.raises(ValidationError, match="jitter"):
        cls.model_validate({"jitter": jitter})
