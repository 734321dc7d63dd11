"""`llmaz-serverless up` through the real CLI: Redis, emulators, gateway, worker; SIGTERM or Ctrl-C."""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from llmaz_serverless.launcher import free_port

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


def _config(redis_port: int, a_port: int, b_port: int, gw_port: int, worker_port: int) -> dict:
    return {
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
        "worker": {"metricsHost": "127.0.0.1", "metricsPort": worker_port, "drainTimeout": "5s"},
        "queue": {"notifications": {"enabled": False}},
        "events": {"rules": [{"name": "opened", "pattern": {"type": ["com.example.opened"]},
                              "actions": [{"prewarm": {"models": ["big"], "window": "5m"}}]}]},
        "emulator": {"defaults": {"ttft": "1ms", "itl": "1ms"}, "models": {"big": {"startupDelay": "300ms"}}},
    }  # fmt: skip


def _start_up(tmp_path, config: dict, **popen) -> tuple[subprocess.Popen, str]:
    """`up` as a subprocess, read until its summary is printed; returns the process and the summary."""
    path = tmp_path / "runtime.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmaz_serverless", "up", "--config", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen,
    )  # fmt: skip
    out_lines = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out_lines.append(line)
        if "Ctrl-C stops everything" in line:
            break
    return proc, "".join(out_lines)


def test_up_serves_every_model_through_the_gateway_and_stops_all_on_sigterm(tmp_path):
    ports = tuple(free_port() for _ in range(5))
    gw_port = ports[3]
    proc, out = _start_up(tmp_path, _config(*ports))
    try:
        assert "the local stack is running" in out, out
        assert f"http://127.0.0.1:{gw_port}" in out and "curl -s" in out
        for name in ("small", "big"):
            status, data = _post(
                f"http://127.0.0.1:{gw_port}/v1/chat/completions",
                {"model": name, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3},
            )
            assert (status, data["model"]) == (200, name)
        assert all(_listening(p) for p in ports)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "stopping" in rest
    time.sleep(0.2)
    assert not any(_listening(p) for p in ports)


def _examples(summary: str, heading: str) -> list[list[str]]:
    """The curl commands of the summary's block starting with `heading`, as argv lists."""
    block = next(b for b in summary.split("\n\n") if b.lstrip().startswith(heading))
    joined = block.replace(" \\\n", " ")
    return [
        shlex.split(line, comments=True) for line in joined.splitlines() if line.lstrip().startswith("curl ")
    ]


def _curl(argv: list[str]) -> str:
    assert argv[0] == "curl"
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout


def _session_members(sid: int) -> list[int]:
    """Live processes of session `sid` (up and everything it started, orphans included)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                # pid (comm) state ppid pgrp session ...; comm may hold spaces, so split after ')'.
                state, _ppid, _pgrp, session = fh.read().rsplit(")", 1)[1].split()[:4]
        except OSError:
            continue
        if int(session) == sid and state != "Z":
            members.append(int(entry))
    return members


def test_up_runs_its_printed_async_and_events_examples_and_ctrl_c_leaves_nothing(tmp_path):
    ports = tuple(free_port() for _ in range(5))
    # Its own session, so Ctrl-C can be sent the way a terminal does: to the whole process group.
    proc, out = _start_up(tmp_path, _config(*ports), start_new_session=True)
    try:
        assert "the local stack is running" in out, out
        assert f"worker    http://127.0.0.1:{ports[4]}/metrics" in out
        submit, poll = _examples(out, "Async")
        head, _, body = _curl(submit).replace("\r\n", "\n").partition("\n\n")
        assert head.startswith("HTTP/1.1 202"), head
        job = json.loads(body)
        assert f"Location: /v1/async/{job['id']}" in head
        poll = [arg.replace("<id>", job["id"]) for arg in poll]
        deadline = time.monotonic() + 60
        while (status := json.loads(_curl(poll)))["status"] != "succeeded" and time.monotonic() < deadline:
            assert status["status"] in ("queued", "running"), status
            time.sleep(0.2)
        assert status["status"] == "succeeded", status
        assert status["result"]["object"] == "chat.completion"
        post, read = _examples(out, "Events")
        assert json.loads(_curl(post))["events"][0]["matched"] == ["opened"]
        assert json.loads(_curl(read))["replicas"] == 1
        children = [pid for pid in _session_members(proc.pid) if pid != proc.pid]
        assert len(children) >= 3, children  # redis-server, gateway, worker
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert "stopping: gateway, worker" in rest
    time.sleep(0.2)
    assert _session_members(proc.pid) == []
    assert not any(_listening(p) for p in ports)


def test_a_killed_up_takes_redis_gateway_and_worker_with_it(tmp_path):
    """SIGKILL gives up no chance to clean up: the kernel stops its children (PR_SET_PDEATHSIG)."""
    ports = tuple(free_port() for _ in range(5))
    proc, out = _start_up(tmp_path, _config(*ports), start_new_session=True)
    assert "the local stack is running" in out, out
    children = [pid for pid in _session_members(proc.pid) if pid != proc.pid]
    assert len(children) >= 3, children  # redis-server, gateway, worker
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 20
    while _session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _session_members(proc.pid) == []
    assert not any(_listening(p) for p in ports)


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
