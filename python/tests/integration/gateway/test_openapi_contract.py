"""The gateway answers as its OpenAPI document says: schemathesis, every check, against a real stack.

A real gateway on loopback in front of a real emulator, real Redis, a real async
worker (so queued jobs run while the status routes are probed) and a filesystem
object store (so uploads and payloads by reference run). schemathesis generates
requests from the served document, valid and invalid, and checks every answer:
no 5xx, every status and header documented, bodies matching their schemas, valid
requests accepted, invalid ones refused, `Allow` on every 405. The run must end with no failure at all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless_testing.appservers import GatewayServer
from llmaz_serverless_testing.worker import start_worker_process, write_runtime_config

pytestmark = pytest.mark.integration

# Test cases per operation and phase (schemathesis' default is 100). 20 gives about
# 1,200 cases over the 15 operations in 10-20 s on this 2-core machine.
MAX_EXAMPLES = 20


# The model ids this gateway serves, as a client knows them from GET /v1/models: half the
# generated requests name one, so they pass routing and reach the async API's checks, the
# queue and the emulator; the other half keep exercising unknown models (404).
SCHEMATHESIS_CONFIG = """
[dictionaries.served-models]
values = ["m"]

[parameters]
"body.model" = { dictionary = "served-models", probability = 0.5 }

# Past routing, the synchronous operations hand the request to the model server, which
# judges it by limits no API document can state (the model's context length: the
# emulator, like vLLM, answers 400 when prompt + max_tokens exceed it). Its 400 is its
# own, so there it counts as an answer; the async operations, whose requests the gateway
# checks itself before queueing, keep the strict default.
[[operations]]
include-operation-id = ["createChatCompletion", "createCompletion", "createEmbedding"]
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx",
]
"""


def _runtime(redis_url: str, upstream: str, store: Path) -> dict:
    return {
        "models": [{"name": "m", "playground": "m", "upstream": upstream, "timeouts": {"coldStart": "30s"}}],
        "redis": {"url": redis_url},
        "gateway": {"host": "127.0.0.1", "port": 0, "shutdownDelay": 0, "shutdownTimeout": 5,
                    "accessLog": False},
        "queue": {
            "objectStore": {"type": "filesystem", "root": str(store)},
            # Generated webhook URLs name arbitrary hosts: record them, never call them.
            "notifications": {"enabled": False},
        },
        "worker": {"metricsPort": 0, "drainTimeout": "2s"},
        "events": {"rules": [{"name": "every-event", "matchAll": True,
                              "actions": [{"prewarm": {"models": ["m"], "window": "1m"}}]}]},
    }  # fmt: skip


def _server_errors(gateway_url: str) -> list[str]:
    """Samples of the gateway's request counter with a 5xx status."""
    with urllib.request.urlopen(f"{gateway_url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return [
        line
        for line in text.splitlines()
        if line.startswith("llmaz_serverless_gateway_requests_total")
        and re.search(r'code="5\d\d"', line)
        and not line.endswith(" 0.0")
    ]


def test_gateway_conforms_to_its_openapi_document_under_every_schemathesis_check(
    redis_url, emulator, tmp_path
):
    upstream = emulator(model="m", ttft=0.001, itl=0.00001, max_model_len=4096)
    runtime = _runtime(redis_url, upstream.url, tmp_path / "store")
    config = write_runtime_config(tmp_path / "runtime.yaml", runtime)
    worker = start_worker_process(config, "contract", log_path=tmp_path / "worker.log")
    parsed = RuntimeConfig.model_validate(runtime)
    gateway = GatewayServer(parsed, GatewaySettings.load(parsed, environ={}), environ={}).start()
    # More cases when hunting: LLMAZ_SCHEMATHESIS_MAX_EXAMPLES=100 (about 35 s here).
    max_examples = os.environ.get("LLMAZ_SCHEMATHESIS_MAX_EXAMPLES", str(MAX_EXAMPLES))
    settings = tmp_path / "schemathesis.toml"
    settings.write_text(SCHEMATHESIS_CONFIG)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", str(settings),
             "run", f"{gateway.url}/openapi.json", "--checks", "all", "--max-examples", max_examples,
             "--workers", "1", "--generation-database", "none", "--request-timeout", "30",
             "--no-color", "--output-sanitize", "false"],
            # Its cache (.schemathesis/) lands in the test's directory, not in the checkout.
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        server_errors = _server_errors(gateway.url)
    finally:
        gateway.stop()
        worker.terminate()
        worker.wait(timeout=30)
    report = run.stdout[-12000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    counts = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert counts is not None, report
    generated, passed = map(int, counts.groups())
    # Every operation was exercised (15 of them), and every generated case passed.
    assert "Tested: 15" in run.stdout, report
    assert generated == passed and generated > 15 * MAX_EXAMPLES, report
    assert server_errors == [], server_errors
    # Generated requests got past routing to the model, not only to the gateway's own checks.
    assert upstream.engine.totals.completed > 0
