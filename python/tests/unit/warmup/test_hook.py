import pytest

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.warmup.hook import UnknownModelError, interceptor_target, select_models
from llmaz_serverless.warmup.settings import SECTION, WarmupSettings


def settings_of(config: RuntimeConfig) -> WarmupSettings:
    return config.section(SECTION, WarmupSettings)


def test_all_models_with_warmup_enabled_are_selected_by_default(config):
    assert [m.name for m in select_models(config, settings_of(config), None)] == ["llama-3-8b"]


def test_named_models_are_selected_in_order_even_with_warmup_disabled(config):
    names = ["qwen-0.5b", "llama-3-8b"]
    assert [m.name for m in select_models(config, settings_of(config), names)] == names


def test_unknown_model_name_is_an_error_listing_known_ones(config):
    with pytest.raises(
        UnknownModelError, match=r"names mistral, not in models\[\] \(known: llama-3-8b, qwen-0.5b\)"
    ):
        select_models(config, settings_of(config), ["mistral"])


def test_hook_models_from_settings_when_no_names_given(config):
    config.model_extra["warmup"]["hook"] = {"models": ["qwen-0.5b"]}
    assert [m.name for m in select_models(config, settings_of(config), None)] == ["qwen-0.5b"]


def test_requests_go_to_the_interceptor_with_the_route_host_and_headers(config):
    model = config.models[0].model_copy(
        update={"headers": {"X-Llmaz-Model": "llama"}, "path_prefix": "/llama"}
    )
    target = interceptor_target(model)
    assert (
        target.url("/v1/completions")
        == "http://keda-add-ons-http-interceptor-proxy.keda:8080/llama/v1/completions"
    )
    assert dict(target.headers) == {"X-Llmaz-Model": "llama", "Host": "llama.models.svc"}
    assert target.model == "llama-3-8b"
