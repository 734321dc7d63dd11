from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from llmaz_serverless.loadtest.profile import PROFILE_ENV, LoadProfile, load_profile


def test_profile_round_trips_with_the_async_alias_when_saved(tmp_path: Path) -> None:
    profile = LoadProfile(api="async", async_={"poll_interval": 0.5}, shape_params={"idle": 30})
    path = tmp_path / "profile.json"
    path.write_text(profile.to_json())
    assert '"async"' in path.read_text()
    assert load_profile(path) == profile


def test_environment_variable_names_the_profile_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.json"
    path.write_text(LoadProfile(model="llama").to_json())
    monkeypatch.setenv(PROFILE_ENV, str(path))
    assert load_profile().model == "llama"


def test_bad_length_spec_is_refused_when_profile_is_built() -> None:
    with pytest.raises(ValidationError, match="unknown kind"):
        LoadProfile(prompt_tokens="zipf:2")


def test_unknown_field_is_refused_when_profile_is_built() -> None:
    with pytest.raises(ValidationError, match="extra"):
        LoadProfile.model_validate({"modle": "x"})
