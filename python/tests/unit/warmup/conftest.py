"""Fixtures of the warmup unit tests: a runtime config with one model and a recording API."""

from __future__ import annotations

import pytest

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.warmup.client import RetryPolicy, WarmupClient
from llmaz_serverless.warmup.controller import WarmupController
from llmaz_serverless.warmup.settings import WarmupBackoff
from llmaz_serverless_testing.warmup import RecordingKubeApi


def runtime_config(**warmup_overrides) -> RuntimeConfig:
    return RuntimeConfig.model_validate(
        {
            "models": [
                {
                    "name": "llama-3-8b",
                    "playground": "llama",
                    "namespace": "models",
                    "backend": "vllm",
                    "upstream": "http://keda-add-ons-http-interceptor-proxy.keda:8080",
                    "host": "llama.models.svc",
                    "warmup": {"deadline": "2s", **warmup_overrides},
                },
                {
                    "name": "qwen-0.5b",
                    "playground": "qwen",
                    "namespace": "models",
                    "backend": "llamacpp",
                    "upstream": "http://keda-add-ons-http-interceptor-proxy.keda:8080",
                    "warmup": {"enabled": False},
                },
            ],
            # Nothing listens on port 9 (discard) on loopback: connections are refused at once.
            "warmup": {"modelPort": 9, "attempts": 2, "backoff": {"initial": "10ms", "max": "50ms"}},
        }
    )


@pytest.fixture
def config() -> RuntimeConfig:
    return runtime_config()


@pytest.fixture
def api() -> RecordingKubeApi:
    return RecordingKubeApi()


@pytest.fixture
async def controller(config: RuntimeConfig, api: RecordingKubeApi):
    client = WarmupClient(RetryPolicy(attempts=2, backoff=WarmupBackoff(initial=0.01, max=0.05)))
    ctl = WarmupController.build(config, api, client=client, instance="warmup-controller-0")
    yield ctl
    await ctl.close()


@pytest.fixture
def make_config():
    """Build the test config with overrides of the first model's `warmup:`."""
    return runtime_config
