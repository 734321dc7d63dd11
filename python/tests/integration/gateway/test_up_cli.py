"""`llmaz-serverless up` through the real CLI: Redis, emulators and gateway, then SIGTERM."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from llmaz_serverless.localserver import free_port

pytestmark = pytest.mark.integration


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=20) as resp:
        return resp.status, json.loads(resp.read())


def test_up_serves_every_model_through_the_gateway_and_stops_all_on_sigterm(tmp_path):
    redis_port, a_port, b_port, gw_port = (free_port() for _ in range(4))
    config = {
        "models": [
            {"name": "small", "playground": "small", "upstream": f"http://127.0.0.1:{a_port}"},
            {
                "name": "big",
                "playground": "big",
                "upstream": f"http://127.0.0.1:{b_port}",
                "failover": "small",
            },
        ],
        "redis": {"url": f"redis://127.0.0.1:{redis_port}/0"},
        "gateway": {"host": "127.0.0.1", "port": gw_port, "shutdownDelay": 0},
        "emulator": {"defaults": {"ttft": "1ms", "itl": "1ms"}, "models": {"big": {"startupDelay": "300ms"}}},
    }
    path = tmp_path / "runtime.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmaz_serverless", "up", "--config", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    out_lines = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out_lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        out = "".join(out_lines)
        assert "the local stack is running" in out, out
        assert f"http://127.0.0.1:{gw_port}" in out and "curl -s" in out
        for name in ("small", "big"):
            status, data = _post(
                f"http://127.0.0.1:{gw_port}/v1/chat/completions",
                {"model": name, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3},
            )
            assert (status, data["model"]) == (200, name)
        assert all(_listening(p) for p in (redis_port, a_port, b_port, gw_port))
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "stopping" in rest
    time.sleep(0.2)
    assert not any(_listening(p) for p in (redis_port, a_port, b_port, gw_port))


def test_up_refuses_config_naming_unknown_emulator_model(tmp_path):
    path = tmp_path / "runtime.yaml"
    path.write_text(
        yaml.safe_dump({
            "models": [{"name": "a", "playground": "a", "upstream": "http://127.0.0.1:1"}],
            "emulator": {"models": {"b": {"ttft": "1ms"}}},
        })
    )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "llmaz_serverless", "up", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1
    assert "emulator.models names ['b']" in out.stderr
