"""The one scale-to-zero rule of the local stand-ins (emulator, load-test scaler), on a fake clock."""

from __future__ import annotations

import pytest

from llmaz_serverless.scale_to_zero import ScaleToZeroRule, ScaleToZeroSettings


def rule(**kw: float) -> ScaleToZeroRule:
    settings = {
        "max_replicas": 3,
        "target_concurrency": 2.0,
        "scale_to_zero_after": 10.0,
        "scale_down_after": 4.0,
    }
    return ScaleToZeroRule(ScaleToZeroSettings(**{**settings, **kw}))  # type: ignore[arg-type]


def test_scales_up_at_once_to_ceil_of_concurrency_over_target_clamped_to_max() -> None:
    r = rule()
    assert r.decide(1.0, current=0, in_flight=1) == 1
    assert r.decide(2.0, current=1, in_flight=3) == 2
    assert r.decide(3.0, current=2, in_flight=50) == 3


def test_burst_between_polls_counts_when_it_ended_before_the_poll() -> None:
    r = rule()
    r.activity(0.5, in_flight=5)
    r.activity(0.6, in_flight=0)
    assert r.decide(1.0, current=1, in_flight=0) == 3
    # The peak is forgotten once decided on: the next quiet poll keeps one replica.
    assert r.decide(1.5, current=3, in_flight=0) == 3  # the stabilization window starts
    assert r.decide(5.5, current=3, in_flight=0) == 2


def test_quiet_model_keeps_one_replica_until_the_cooldown_then_goes_to_zero() -> None:
    r = rule()
    r.activity(100.0)
    assert r.decide(105.0, current=1, in_flight=0) == 1
    assert r.decide(109.9, current=1, in_flight=0) == 1
    assert r.decide(110.0, current=1, in_flight=0) == 0
    assert r.decide(120.0, current=0, in_flight=0) == 0


def test_goes_to_zero_from_several_replicas_without_stepping_when_cooldown_has_passed() -> None:
    r = rule()
    assert r.decide(20.0, current=3, in_flight=0) == 0


def test_scales_down_one_replica_per_stabilization_window_when_demand_drops() -> None:
    r = rule()
    r.activity(0.0)
    assert r.decide(1.0, current=3, in_flight=1) == 3  # lower demand noticed
    assert r.decide(3.0, current=3, in_flight=1) == 3
    assert r.decide(5.0, current=3, in_flight=1) == 2  # 4 s of lower demand
    assert r.decide(6.0, current=2, in_flight=1) == 2
    assert r.decide(9.0, current=2, in_flight=1) == 1


def test_demand_back_up_restarts_the_stabilization_window() -> None:
    r = rule()
    assert r.decide(1.0, current=3, in_flight=1) == 3  # lower demand noticed
    assert r.decide(2.0, current=3, in_flight=6) == 3  # back up: the window is gone
    # The six still in flight at the last poll count for this one too.
    assert r.decide(3.0, current=3, in_flight=1) == 3
    assert r.decide(4.0, current=3, in_flight=1) == 3  # lower demand noticed again
    assert r.decide(7.0, current=3, in_flight=1) == 3  # 3 s since, not 6 since the first notice
    assert r.decide(8.0, current=3, in_flight=1) == 2


def test_single_replica_model_never_wants_more_than_one_and_idles_from_the_last_request() -> None:
    r = ScaleToZeroRule(ScaleToZeroSettings(max_replicas=1, scale_to_zero_after=1.0))
    r.activity(0.5, in_flight=40)
    assert r.decide(0.6, current=1, in_flight=40) == 1
    r.activity(1.0)  # the last request ended
    assert r.decide(1.9, current=1, in_flight=0) == 1
    assert r.decide(2.0, current=1, in_flight=0) == 0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_replicas": 0}, r"max_replicas: 0 is below 1"),
        ({"target_concurrency": 0.0}, r"target_concurrency: 0.0 must be above 0"),
        ({"polling_interval": -1.0}, r"polling_interval: -1.0 must be above 0"),
    ],
)
def test_bad_settings_name_the_field_and_value(kw: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule(**kw)


def test_end_reported_after_a_later_arrival_does_not_move_the_quiet_period_back() -> None:
    # The planner pops request ends lazily, so an end can be reported after a later arrival.
    r = rule()
    r.activity(20.0, in_flight=1)
    r.activity(15.0)
    assert r.last_activity == 20.0
