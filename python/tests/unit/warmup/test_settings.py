import pytest
from pydantic import ValidationError

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.warmup.settings import SECTION, WarmupSettings


def test_defaults_never_prewarm_on_install_when_section_missing():
    settings = RuntimeConfig.model_validate({}).section(SECTION, WarmupSettings)
    assert settings.on_install is False
    assert settings.model_port == 8080
    assert settings.webhook.port == 9443
    assert settings.timeline.first_token_metrics["vllm"] == "vllm:time_to_first_token_seconds_count"


def test_camel_case_keys_and_durations_parse_when_chart_renders_them():
    raw = {
        "onInstall": True,
        "modelPort": 8000,
        "backoff": {"initial": "250ms", "max": "1m"},
        "webhook": {"port": 8443, "certFile": "/tls/tls.crt", "keyFile": "/tls/tls.key"},
        "timeline": {"firstTokenWindow": "15m", "decisionMaxAge": "1h"},
        "hook": {"models": ["llama"], "attempts": 3, "failRelease": True},
    }
    settings = RuntimeConfig.model_validate({"warmup": raw}).section(SECTION, WarmupSettings)
    assert settings.on_install is True
    assert settings.backoff.initial == 0.25 and settings.backoff.max == 60.0
    assert settings.webhook.cert_file == "/tls/tls.crt"
    assert settings.timeline.first_token_window == 900.0
    assert settings.timeline.decision_max_age == 3600.0
    assert settings.hook.fail_release is True


def test_unknown_key_is_rejected_naming_it_when_misspelled():
    with pytest.raises(ValidationError, match="onInstal"):
        RuntimeConfig.model_validate({"warmup": {"onInstal": True}}).section(SECTION, WarmupSettings)


def test_zero_attempts_is_rejected_when_configured():
    with pytest.raises(ValidationError, match="attempts"):
        WarmupSettings.model_validate({"attempts": 0})
