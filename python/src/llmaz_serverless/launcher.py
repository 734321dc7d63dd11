"""Real Debian servers on loopback for tests, `make up` and local load tests.

Each server starts on 127.0.0.1 with a free port and a temporary data dir,
is waited for until it answers, and is stopped (and its dir removed) on exit.
Used as context managers:

    with RedisServer() as redis:
        print(redis.url)
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies, even by SIGKILL (Linux only).

    The kernel ties this to the thread that started the child, so only start
    such children from a thread that lives as long as the launcher (its main thread).
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ServerNotInstalledError(RuntimeError):
    """The server binary is missing; `make system-deps` installs it."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode} before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, wait up to `timeout` seconds for a clean exit, then SIGKILL; always reaped."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class LocalServer:
    """A server process with its own port and temporary directory."""

    binary = ""
    # The temporary directory's name part; the binary's name when empty.
    dir_prefix = ""
    startup_timeout = 20.0

    def __init__(self, port: int | None = None, orphan_safe: bool = False) -> None:
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"llmaz-{self.dir_prefix or self.binary}-"))
        self.proc: subprocess.Popen[bytes] | None = None
        # Stop the server when its launcher dies, even by SIGKILL, so `make up` leaves nothing behind.
        self.orphan_safe = orphan_safe

    def command(self, path: str) -> list[str]:
        raise NotImplementedError

    def ready(self) -> None:
        assert self.proc is not None
        wait_for_port(self.port, self.startup_timeout, self.proc)

    def start(self) -> Self:
        path = shutil.which(self.binary) or shutil.which(self.binary, path="/usr/sbin:/usr/bin")
        if not path:
            raise ServerNotInstalledError(
                f"{self.binary} is not installed; run `make system-deps` (Debian package)"
            )
        log = open(self.dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            self.command(path), stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
            preexec_fn=die_with_parent if self.orphan_safe else None,
        )  # fmt: skip
        try:
            self.ready()
        except Exception:
            self.stop()
            raise
        return self

    def log_text(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RedisServer(LocalServer):
    binary = "redis-server"

    def command(self, path: str) -> list[str]:
        return [
            path,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class NatsServer(LocalServer):
    """nats-server with JetStream; `monitoring=True` also serves the HTTP monitoring
    endpoint (/jsz, what KEDA's nats-jetstream scaler reads) on `monitor_port`."""

    binary = "nats-server"

    def __init__(self, port: int | None = None, monitoring: bool = False) -> None:
        super().__init__(port)
        self.monitor_port = free_port() if monitoring else None

    def command(self, path: str) -> list[str]:
        cmd = [path, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.dir)]
        if self.monitor_port is not None:
            cmd += ["-m", str(self.monitor_port)]
        return cmd

    @property
    def monitoring_endpoint(self) -> str:
        """`host:port` of the monitoring endpoint, as KEDA's trigger metadata names it."""
        if self.monitor_port is None:
            raise ValueError("this NatsServer was started without monitoring=True")
        return f"127.0.0.1:{self.monitor_port}"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


class PrometheusServer(LocalServer):
    """Prometheus scraping the given targets ("host:port") every `scrape_interval`."""

    binary = "prometheus"
    startup_timeout = 60.0

    def __init__(
        self, targets: list[str] | None = None, scrape_interval: str = "1s", port: int | None = None
    ) -> None:
        super().__init__(port)
        self.targets = targets or []
        self.scrape_interval = scrape_interval

    def command(self, path: str) -> list[str]:
        targets = ", ".join(f'"{t}"' for t in self.targets)
        (self.dir / "prometheus.yml").write_text(
            "global:\n"
            f"  scrape_interval: {self.scrape_interval}\n"
            f"  evaluation_interval: {self.scrape_interval}\n"
            "scrape_configs:\n"
            "  - job_name: local\n"
            f"    static_configs: [{{targets: [{targets}]}}]\n"
        )
        return [
            path,
            f"--config.file={self.dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]

    def ready(self) -> None:
        super().ready()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("prometheus did not become ready")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
