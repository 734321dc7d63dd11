"""One model timing for the emulator, the local stack and the planner: its formula and cold rule."""

from __future__ import annotations

import pytest

from llmaz_serverless.emulator.settings import EmulatorSettings
from llmaz_serverless.model_timing import ModelTiming


def test_seconds_is_first_token_plus_prefill_plus_output_tokens() -> None:
    timing = ModelTiming(ttft=0.5, prefill_per_token=0.01, itl=0.1)
    assert timing.seconds(100, 20) == pytest.approx(0.5 + 1.0 + 2.0)
    assert timing.seconds(0, 0) == pytest.approx(0.5)
    assert timing.first_token(100) == pytest.approx(0.5 + 1.0), "the emulator's TTFT: no output tokens"


def test_only_the_first_cold_requests_after_a_load_are_slower() -> None:
    timing = ModelTiming(ttft=1.0, prefill_per_token=0.0, itl=0.0, cold_requests=2, cold_factor=4.0)
    assert [timing.slowdown(n) for n in (1, 2, 3, 10)] == [4.0, 4.0, 1.0, 1.0]
    # Without cold requests no request is slower, whatever the factor.
    plain = ModelTiming(ttft=1.0, prefill_per_token=0.0, itl=0.0, cold_factor=4.0)
    assert [plain.slowdown(n) for n in (0, 1, 2)] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("field", "value", "fix"),
    [("cold_requests", -1, "set 0 for no slow requests"), ("cold_factor", 0.5, "set 1.0 for no slowdown")],
)
def test_bad_cold_settings_name_the_field_the_value_and_the_fix(field: str, value: float, fix: str) -> None:
    with pytest.raises(ValueError, match=rf"{field}: {value} .*{fix}"):
        ModelTiming(ttft=1.0, prefill_per_token=0.0, itl=0.0, **{field: value})  # type: ignore[arg-type]


def test_the_emulator_settings_are_that_timing_under_the_same_names() -> None:
    settings = EmulatorSettings(ttft=0.2, prefill_per_token=0.001, itl=0.03, cold_requests=3, cold_factor=2.0)
    assert settings.timing == ModelTiming(0.2, 0.001, 0.03, cold_requests=3, cold_factor=2.0)
    # The emulator's defaults stay its own: quick, and no slow requests.
    assert EmulatorSettings().timing == ModelTiming(0.02, 0.0, 0.01, cold_requests=0, cold_factor=3.0)
