from __future__ import annotations

import ast

import pytest

from llmaz_serverless.loadtest import catalog


@pytest.mark.parametrize("name", list(catalog.SCENARIOS))
def test_every_scenario_has_a_locustfile_naming_it_when_listed(name: str) -> None:
    scenario = catalog.SCENARIOS[name]
    assert scenario.locustfile.exists(), f"missing {scenario.locustfile}"
    tree = ast.parse(scenario.locustfile.read_text())
    calls = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "scenario_shape"
    ]
    assert [c.args[0].value for c in calls] == [name]
    assert scenario.schedule().total > 0


def test_scenario_is_found_by_shape_name_when_number_is_omitted() -> None:
    assert catalog.get("diurnal").name == "04_diurnal"
    assert catalog.get("00_mix").shape == "mix"


def test_unknown_scenario_lists_the_known_ones_when_requested() -> None:
    with pytest.raises(ValueError, match="01_steady"):
        catalog.get("spiky")


def test_short_profile_stays_within_two_minutes_when_run_with_defaults() -> None:
    assert catalog.get("00_mix").schedule().total <= 120
