"""The local scale-to-zero simulation (loadtest/scaler.py) with real emulator replicas."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import requests

from llmaz_serverless.launcher import free_port, wait_for_port
from llmaz_serverless.loadtest.client import send
from llmaz_serverless.loadtest.prompts import request_body
from llmaz_serverless.loadtest.records import RequestRecord
from llmaz_serverless.loadtest.scaler import STATE_PATH

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def scaler() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmaz_serverless.loadtest.scaler", "--port", str(port), "--model", "m",
         "--max-replicas", "2", "--target-concurrency", "1", "--scale-to-zero-after", "1.5",
         "--scale-down-after", "0.5", "--polling-interval", "0.1",
         "--", "--startup-delay", "0.5", "--ttft", "0.05", "--itl", "0.01"],
    )  # fmt: skip
    try:
        wait_for_port(port, 30, proc)  # type: ignore[arg-type]
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _state(url: str) -> dict:
    return httpx.get(url + STATE_PATH, timeout=2).json()


def _wait_state(url: str, key: str, value: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(url)
        if state[key] == value:
            return state
        time.sleep(0.05)
    raise AssertionError(f"{key} never reached {value}: {state}")


def _complete(url: str, max_tokens: int) -> httpx.Response:
    body = {"model": "m", "prompt": "hello", "max_tokens": max_tokens}
    return httpx.post(url + "/v1/completions", json=body, timeout=60)


def test_scales_from_zero_to_n_and_back_to_zero_without_losing_a_request_when_load_comes_and_goes(
    scaler: str,
) -> None:
    assert _state(scaler)["replicas"] == 0  # starts at zero
    began = time.monotonic()
    first = _complete(scaler, 2)
    assert first.status_code == 200
    assert time.monotonic() - began >= 0.5  # held while the first replica loaded
    assert _state(scaler)["scaleUpsFromZero"] == 1

    peak = 0
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(_complete, scaler, 150) for _ in range(4)]  # ~1.5 s each
        while not all(f.done() for f in futures):
            peak = max(peak, _state(scaler)["replicas"])
            time.sleep(0.05)
    assert [f.result().status_code for f in futures] == [200] * 4
    assert peak == 2  # concurrency 4 / target 1, capped at --max-replicas 2

    idle = _wait_state(scaler, "replicas", 0, timeout=15)
    assert idle["readyReplicas"] == 0
    assert idle["replicaStarts"] == 2


def test_streams_pass_through_token_by_token_when_proxied(scaler: str) -> None:
    path, body = request_body("chat", "m", "hi there", 20, True, 0.7)
    with requests.Session() as session:
        record = send(session, scaler, path, body, RequestRecord(uuid.uuid4().hex, "chat", "m", True, 0.0))
    assert record.outcome == "ok", record.error_detail
    assert record.output_tokens == 20
    # Buffered proxying would deliver the tokens together: gaps near 0 ms, one long TTFT.
    assert sorted(record.itl_ms)[len(record.itl_ms) // 2] >= 5
