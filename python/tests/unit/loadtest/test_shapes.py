from __future__ import annotations

import pytest

from llmaz_serverless.loadtest import shapes


def test_steady_keeps_users_constant_then_ends_when_duration_passes() -> None:
    s = shapes.steady(users=5, duration=30)
    assert s.total == 30
    assert s.at(0) == (5, shapes.BURST_SPAWN_RATE)
    assert s.at(29.9)[0] == 5
    assert s.at(30) is None


def test_step_adds_users_every_step_when_time_advances() -> None:
    s = shapes.step(start_users=1, step_users=2, steps=3, step_duration=10)
    assert [s.at(t)[0] for t in (0, 10, 20, 29.9)] == [1, 3, 5, 5]
    assert s.at(30) is None


def test_burst_after_idle_has_zero_users_for_the_whole_idle_gap_when_built() -> None:
    s = shapes.burst_after_idle(idle=20, burst_users=8, burst_duration=5, repeats=2, lead_in=3)
    assert s.total == 3 + 2 * (5 + 20)
    assert s.at(1)[0] == 0
    assert s.at(3)[0] == 8  # every user at once: the burst that meets zero replicas
    assert s.at(3)[1] >= 8
    assert all(s.at(t)[0] == 0 for t in (8, 15, 27.9))
    assert s.at(28)[0] == 8
    assert [name for _, name in s.boundaries()] == [
        "idle (lead-in)",
        "burst 1",
        "idle 1",
        "burst 2",
        "idle 2",
    ]


def test_diurnal_is_lowest_at_midnight_and_highest_at_noon_when_sampled() -> None:
    s = shapes.diurnal(min_users=0, max_users=8, period=60, days=2)
    assert s.at(0)[0] == 0
    assert s.at(30)[0] == 8
    assert s.at(60)[0] == 0
    assert s.at(90)[0] == 8
    assert s.at(120) is None


def test_mix_returns_to_zero_users_between_its_two_bursts_when_built() -> None:
    s = shapes.mix(idle=15, peak_users=6, lead_in=3, phase=12)
    names = dict((name, start) for start, name in s.boundaries())
    idle_start = names["idle (scale to zero)"]
    assert s.at(idle_start + 1)[0] == 0
    assert s.at(names["second burst (0->1)"])[0] == 3
    assert max(s.at(t)[0] for t in range(int(s.total))) == 6


def test_build_casts_command_line_strings_when_types_differ() -> None:
    s = shapes.build("burst_after_idle", {"idle": "360", "burst_users": "4"})
    assert s.params["idle"] == 360.0
    assert s.params["burst_users"] == 4


@pytest.mark.parametrize(
    ("kind", "params", "fragment"),
    [
        ("sawtooth", {}, "expected one of"),
        ("steady", {"userz": 3}, "unknown parameter 'userz'"),
        ("step", {"steps": "many"}, "steps='many' is not a int"),
        ("step", {"steps": "2.5"}, "steps='2.5' is not a int"),
    ],
)
def test_build_refuses_with_the_accepted_names_when_input_is_wrong(
    kind: str, params: dict, fragment: str
) -> None:
    with pytest.raises(ValueError, match="shape") as err:
        shapes.build(kind, params)
    assert fragment in str(err.value)
