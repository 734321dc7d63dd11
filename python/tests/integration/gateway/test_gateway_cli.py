"""`llmaz-serverless gateway` as a process: config + env + flags, graceful drain on SIGTERM."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml

from llmaz_serverless.launcher import free_port, wait_for_port
from llmaz_serverless_testing.appservers import EmulatorServer

pytestmark = pytest.mark.integration


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_serves_then_drains_on_sigterm_with_readyz_503(tmp_path, redis_url):
    port = free_port()
    with EmulatorServer(model="m", ttft=0, itl=0) as sim:
        path = tmp_path / "runtime.yaml"
        path.write_text(
            yaml.safe_dump({
                "models": [{"name": "m", "playground": "m", "upstream": sim.url}],
                "redis": {"url": redis_url},
                "gateway": {"host": "127.0.0.1", "port": 1, "shutdownDelay": "1500ms"},
            })
        )  # fmt: skip
        env = {**os.environ, "LLMAZ_SERVERLESS_GATEWAY__CACHE__TTL": "5m"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "llmaz_serverless", "gateway", "--config", str(path), "--port", str(port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for_port(port, 60, proc)
            base = f"http://127.0.0.1:{port}"
            assert _get(f"{base}/readyz") == 200
            req = urllib.request.Request(
                f"{base}/v1/completions",
                data=json.dumps({"model": "m", "prompt": "p"}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=5) as resp:
                assert resp.status == 200
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            # Draining: not ready any more, but still serving.
            assert _get(f"{base}/readyz") == 503
            assert _get(f"{base}/healthz") == 200
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    msgs = [line["msg"] for line in lines]
    assert "gateway listening" in msgs and "draining" in msgs and "stopped" in msgs
    listening = next(line for line in lines if line["msg"] == "gateway listening")
    assert listening["event_loop"] == "uvloop"  # gateway.eventLoop's default
    access = [line for line in lines if line["msg"] == "request" and line["path"] == "/v1/completions"]
    assert access[0]["model"] == "m" and access[0]["status"] == 200 and access[0]["request_id"]


def test_exits_1_naming_the_field_when_failover_unknown(tmp_path):
    path = tmp_path / "runtime.yaml"
    path.write_text(
        yaml.safe_dump(
            {"models": [{"name": "a", "playground": "a", "upstream": "http://x", "failover": "b"}]}
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "llmaz_serverless", "gateway", "--config", str(path), "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1
    assert "models[a].failover: 'b'" in out.stdout


def _post_events(url: str, events: list[dict]) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, data=json.dumps(events).encode(), headers={"Content-Type": "application/cloudevents-batch+json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_events_section_takes_its_flags_and_env_vars_in_the_gateway_process(tmp_path, redis_url):
    port = free_port()
    path = tmp_path / "runtime.yaml"
    path.write_text(
        yaml.safe_dump({
            "models": [{"name": "m", "playground": "m", "upstream": "http://127.0.0.1:9"}],
            "redis": {"url": redis_url},
            "gateway": {"host": "127.0.0.1"},
            "events": {"maxBatchEvents": 50, "maxBodyBytes": 65536},
        })
    )  # fmt: skip
    env = {**os.environ, "LLMAZ_SERVERLESS_EVENTS__MAX_BATCH_EVENTS": "1"}
    argv = ["gateway", "--config", str(path), "--port", str(port), "--events-max-body-bytes", "2048"]
    proc = subprocess.Popen([sys.executable, "-m", "llmaz_serverless", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for_port(port, 60, proc)
        url = f"http://127.0.0.1:{port}/v1/events"
        event = {"specversion": "1.0", "id": "e1", "source": "/t", "type": "t"}
        # The env var beats the file's 50 events per batch...
        status, body = _post_events(url, [event, {**event, "id": "e2"}])
        assert (status, body["error"]["code"]) == (413, "batch_too_large")
        # ...and the flag beats the file's 64 KiB body limit.
        status, body = _post_events(url, [{**event, "data": {"pad": "x" * 4096}}])
        assert (status, body["error"]["code"]) == (413, "too_large")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
