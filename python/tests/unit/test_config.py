from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from llmaz_serverless.config import CamelModel, load_runtime_config, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90.0), ("5m", 300.0), ("1h30m", 5400.0), ("250ms", 0.25), (42, 42.0), ("0", 0.0)],
)
def test_parse_duration_accepts_go_style_and_numbers(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "m5", "10x", "1h 30m", True])
def test_parse_duration_rejects_other_forms_naming_the_value(text):
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


def test_parse_duration_none_means_no_limit():
    assert parse_duration(None) is None
    assert parse_duration("") is None


def test_runtime_config_reads_models_and_component_sections(tmp_path: Path):
    path = tmp_path / "runtime.yaml"
    path.write_text(
        "models:\n"
        "  - name: llama\n"
        "    playground: rel-llama\n"
        "    upstream: http://keda-add-ons-http-interceptor-proxy.keda:8080\n"
        "    host: llama.models\n"
        "    timeouts: {coldStart: 10m, responseHeader: 5m}\n"
        "gateway:\n"
        "  port: 9000\n"
    )
    cfg = load_runtime_config(path)
    model = cfg.model("llama")
    assert model is not None
    assert model.timeouts.cold_start == 600.0
    assert model.timeouts.request is None
    assert cfg.model("other") is None

    class Gateway(BaseModel):
        port: int

    assert cfg.section("gateway", Gateway).port == 9000


def test_runtime_config_rejects_a_misspelled_model_key(tmp_path: Path):
    path = tmp_path / "runtime.yaml"
    path.write_text("models:\n  - name: a\n    playground: p\n    upstream: http://x\n    upstrem: y\n")
    with pytest.raises(ValidationError, match="upstrem"):
        load_runtime_config(path)


def test_camel_model_accepts_camel_and_snake_keys():
    class Section(CamelModel):
        hold_timeout: int = 1

    assert Section.model_validate({"holdTimeout": 3}).hold_timeout == 3
    assert Section.model_validate({"hold_timeout": 4}).hold_timeout == 4
