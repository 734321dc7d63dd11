"""Real parts for the worker tests: the model emulator, a webhook receiver, tenant secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from llmaz_serverless_testing.appservers import EmulatorServer
from llmaz_serverless_testing.worker import WebhookReceiver, runtime_config

SECRET = b"tenant-default-secret"


@pytest.fixture
def emulator() -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulators (model name "m" unless given); all stopped after the test."""
    with ExitStack() as stack:

        def start(**settings: Any) -> EmulatorServer:
            settings.setdefault("model", "m")
            return stack.enter_context(EmulatorServer(port=0, **settings))

        yield start


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    d = tmp_path / "webhook-secrets"
    d.mkdir()
    (d / "default").write_bytes(SECRET)
    return d


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    r = await WebhookReceiver(secret=SECRET).start()
    yield r
    await r.stop()


@pytest.fixture
def document(redis_url: str, secrets_dir: Path) -> Callable[..., dict[str, Any]]:
    """A runtime config: model "m" at `upstream`, fast timings for tests, overrides merged in."""

    def build(upstream: str, **worker: Any) -> dict[str, Any]:
        section: dict[str, Any] = {
            "metricsPort": 0,
            "claimIdle": "1s",
            "reclaimInterval": "0.1s",
            "maxAttempts": 3,
            "backoff": {"initial": "0.1s", "max": "0.3s", "jitter": 0},
            "notifications": {"secretsDir": str(secrets_dir), "backoff": {"initial": "0.05s", "jitter": 0}},
        }
        for key, value in worker.items():
            if isinstance(value, dict) and isinstance(section.get(key), dict):
                section[key] = {**section[key], **value}
            else:
                section[key] = value
        return runtime_config(redis_url, {"m": upstream}, section)

    return build
