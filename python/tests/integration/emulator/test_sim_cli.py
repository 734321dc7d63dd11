"""`llmaz-serverless sim` as a real process: flags and env reach the server, SIGTERM stops it."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from llmaz_serverless.launcher import free_port, wait_for_port

pytestmark = pytest.mark.integration


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def _completion_statuses(port: int, model: str, count: int) -> list[int]:
    """The statuses of `count` completions sent one after another."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/completions",
        data=json.dumps({"model": model, "prompt": "p"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    statuses = []
    for _ in range(count):
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                statuses.append(resp.status)
        except urllib.error.HTTPError as err:
            statuses.append(err.code)
    return statuses


def test_serves_with_flags_and_env_then_exits_zero_on_sigterm():
    port = free_port()
    env = {**os.environ, "LLMAZ_SERVERLESS_EMULATOR__FAIL_FIRST": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmaz_serverless", "sim", "--port", str(port), "--model", "cli-model",
         "--startup-delay", "0.5", "--ttft", "0", "--itl", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, 20, proc)
        assert _status(f"http://127.0.0.1:{port}/health") == 503
        time.sleep(0.7)
        assert _status(f"http://127.0.0.1:{port}/health") == 200
        assert _completion_statuses(port, "cli-model", 2) == [500, 200]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert b"model cli-model on http://127.0.0.1:" in out


def test_exits_invalid_naming_the_field_when_value_bad():
    out = subprocess.run(
        [sys.executable, "-m", "llmaz_serverless", "sim", "--fail-rate", "2"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert out.returncode == 1
    assert "failRate" in out.stdout


def test_config_file_defaults_lose_to_env_and_env_to_flags(tmp_path):
    path = tmp_path / "runtime.yaml"
    path.write_text("emulator:\n  defaults: {model: file-model, failFirst: 2, failStatus: 503, ttft: 0}\n")
    port = free_port()
    prefix = "LLMAZ_SERVERLESS_EMULATOR__"
    env = {**os.environ, prefix + "FAIL_FIRST": "1", prefix + "MODEL": "env-model"}
    argv = ["sim", "--config", str(path), "--port", str(port), "--model", "flag-model"]
    proc = subprocess.Popen([sys.executable, "-m", "llmaz_serverless", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for_port(port, 20, proc)
        # failStatus from the file; failFirst 1 from env over the file's 2; the flag's model answers.
        assert _completion_statuses(port, "flag-model", 2) == [503, 200]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
