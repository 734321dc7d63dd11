import argparse

import pytest
from pydantic import ValidationError

from llmaz_serverless.config import RuntimeConfig, load_runtime_config
from llmaz_serverless.gateway.settings import GatewaySettings


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    GatewaySettings.add_flags(parser)
    return parser.parse_args(list(argv))


def test_defaults_when_no_gateway_section():
    settings = GatewaySettings.load(RuntimeConfig(), environ={})
    assert (settings.port, settings.cache.enabled, settings.auth.enabled) == (8080, True, False)
    assert settings.upstream.keepalive_timeout == 60.0


def test_flag_beats_env_beats_file():
    runtime = RuntimeConfig.model_validate(
        {"gateway": {"port": 1000, "cache": {"ttl": "1m", "maxEntryBytes": 10}}}
    )
    env = {"LLMAZ_SERVERLESS_GATEWAY__PORT": "2000", "LLMAZ_SERVERLESS_GATEWAY__CACHE__TTL": "2m"}
    settings = GatewaySettings.load(runtime, _args("--port", "3000"), env)
    assert settings.port == 3000
    assert settings.cache.ttl == 120.0
    assert settings.cache.max_entry_bytes == 10


def test_typo_in_file_rejected_naming_the_key():
    runtime = RuntimeConfig.model_validate({"gateway": {"cache": {"ttll": "1m"}}})
    with pytest.raises(ValidationError, match="ttll"):
        GatewaySettings.load(runtime, environ={})


def test_load_reads_the_local_runtime_yaml(repo):
    runtime = load_runtime_config(repo / "manifests/local/runtime.yaml")
    settings = GatewaySettings.load(runtime, environ={})
    assert [m.name for m in runtime.models] == ["qwen2-0.5b", "llama3-8b"]
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
