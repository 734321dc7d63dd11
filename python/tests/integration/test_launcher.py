"""The launcher's servers and processes, for real on loopback."""

import contextlib
import subprocess
import sys
import threading
import time

import pytest
import redis

from llmaz_serverless.launcher import (
    LocalServer,
    ManagedProcess,
    RedisServer,
    ServerNotInstalledError,
    free_port,
    http_status,
)
from llmaz_serverless_testing.servers import PrometheusServer


def test_redis_server_starts_answers_and_cleans_up():
    with RedisServer() as server:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        data_dir = server.dir
    assert not data_dir.exists()
    assert server.proc is not None and server.proc.poll() is not None


def test_prometheus_server_scrapes_itself():
    import json
    import time
    import urllib.request

    server = PrometheusServer()
    server.targets = [f"127.0.0.1:{server.port}"]
    with server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{server.url}/api/v1/query?query=up") as resp:
                result = json.load(resp)["data"]["result"]
            if result:
                break
            time.sleep(0.5)
        assert result and result[0]["value"][1] == "1"


# A child that listens at once but answers /readyz 503 until READY_AFTER seconds have passed,
# like the gateway before its routes load; it exits with 3 when READY_AFTER is negative.
_SLOW_READY = """
import http.server, sys, time
port, ready_after = int(sys.argv[1]), float(sys.argv[2])
if ready_after < 0:
    print("refusing to start: bad config", flush=True)
    sys.exit(3)
began = time.monotonic()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if time.monotonic() - began >= ready_after else 503)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _child(tmp_path, ready_after: float, timeout: float = 20.0) -> ManagedProcess:
    port = free_port()
    argv = [sys.executable, "-c", _SLOW_READY, str(port), str(ready_after)]
    return ManagedProcess(
        "child", argv, port, tmp_path, startup_timeout=timeout, ready_url=f"http://127.0.0.1:{port}/readyz"
    )


def test_managed_process_is_ready_only_when_its_ready_url_answers_200(tmp_path):
    child = _child(tmp_path, ready_after=1.0)
    began = time.monotonic()
    child.start()
    try:
        assert time.monotonic() - began >= 1.0  # the open port alone did not count as ready
        assert http_status(child.ready_url) == 200
    finally:
        child.stop()
    assert child.proc is not None and child.proc.poll() is not None


def test_managed_process_that_exits_while_starting_names_itself_and_shows_its_log(tmp_path):
    child = _child(tmp_path, ready_after=-1)
    with pytest.raises(RuntimeError, match=r"the child did not start: .*exited with 3") as err:
        child.start()
    assert "refusing to start: bad config" in str(err.value)


def test_managed_process_not_ready_in_time_is_stopped_and_says_what_it_waited_for(tmp_path):
    child = _child(tmp_path, ready_after=60, timeout=1.5)
    with pytest.raises(RuntimeError, match=r"/readyz did not answer 200 within 1.5s"):
        child.start()
    assert child.proc is not None and child.proc.poll() is not None


@pytest.mark.parametrize("from_thread", [False, True], ids=["main thread", "a thread that ends"])
def test_die_with_parent_follows_the_thread_that_spawned_the_child(tmp_path, from_thread):
    """Why `up` spawns on its main thread: the kernel stops an orphan-safe child when its *thread* ends."""
    proc = ManagedProcess(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        free_port(),
        tmp_path,
        orphan_safe=True,
    )
    if from_thread:
        spawner = threading.Thread(target=proc.spawn)
        spawner.start()
        spawner.join()
    else:
        proc.spawn()
    try:
        assert proc.proc is not None
        # The thread's child gets SIGTERM as the thread ends; the main thread's keeps running.
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.proc.wait(timeout=5 if from_thread else 1)
        assert (proc.proc.poll() is None) is (not from_thread)
    finally:
        proc.stop()


def test_a_missing_server_binary_is_named_and_leaves_no_directory():
    class Missing(LocalServer):
        binary = "no-such-server-binary"

    server = Missing()
    with pytest.raises(ServerNotInstalledError, match="no-such-server-binary is not installed"):
        server.start()
    assert not server.dir.exists()
