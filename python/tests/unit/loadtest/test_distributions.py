from __future__ import annotations

import random
import statistics

import pytest

from llmaz_serverless.loadtest.distributions import LengthSpecError, parse_length


@pytest.mark.parametrize(
    ("spec", "lo", "hi"),
    [
        ("fixed:128", 128, 128),
        ("uniform:32,512", 32, 512),
        ("normal:256,64,min=8,max=400", 8, 400),
        ("lognormal:median=200,sigma=0.8,min=8,max=4096", 8, 4096),
    ],
)
def test_samples_stay_within_bounds_when_spec_is_valid(spec: str, lo: int, hi: int) -> None:
    dist = parse_length(spec)
    rng = random.Random(7)
    values = [dist.sample(rng) for _ in range(2000)]
    assert min(values) >= lo
    assert max(values) <= hi
    assert all(isinstance(v, int) for v in values)


def test_lognormal_median_is_close_to_the_spec_when_sampled_often() -> None:
    dist = parse_length("lognormal:median=200,sigma=0.5")
    rng = random.Random(1)
    median = statistics.median(dist.sample(rng) for _ in range(5000))
    assert 185 <= median <= 215


def test_same_seed_gives_same_lengths_when_sampled_twice() -> None:
    dist = parse_length("uniform:1,1000")
    a = [dist.sample(random.Random(3)) for _ in range(3)]
    b = [dist.sample(random.Random(3)) for _ in range(3)]
    assert a == b


def test_spec_round_trips_when_printed() -> None:
    for spec in (
        "fixed:64",
        "uniform:16,64",
        "normal:256,64,max=400",
        "lognormal:median=96,sigma=0.7,min=8,max=2048",
    ):
        assert str(parse_length(str(parse_length(spec)))) == str(parse_length(spec))


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("gamma:3", "unknown kind 'gamma'"),
        ("128", "unknown kind"),
        ("uniform:10", "takes 2 number(s)"),
        ("uniform:50,10", "1 <= LO <= HI"),
        ("fixed:abc", "'abc' is not a number"),
        ("lognormal:median=0,sigma=1", "median > 0"),
        ("normal:10,2,max=1,min=5", "min <= max"),
        ("fixed:10,foo=3", "unknown parameter"),
    ],
)
def test_error_names_the_spec_and_the_problem_when_spec_is_invalid(spec: str, fragment: str) -> None:
    with pytest.raises(LengthSpecError) as err:
        parse_length(spec)
    assert repr(spec) in str(err.value)
    assert fragment in str(err.value)
