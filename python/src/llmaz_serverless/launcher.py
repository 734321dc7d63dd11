"""The one way to start the local stack's processes on loopback: `up` and `loadtest --local`.

- `RedisServer`: a real `redis-server` (Debian) with a free or given port and a
  temporary data dir (`LocalServer` is its base; the tests' NATS and Prometheus
  servers in llmaz_serverless_testing build on it too);
- `ManagedProcess`: any child that listens on a port, logs to a file and is
  ready once the port, and if given an HTTP readiness URL, answers;
- `component_process()`: `llmaz-serverless <gateway|worker> --config FILE`,
  ready on its /readyz.

Every child is stopped with SIGTERM, then SIGKILL after its stop budget, and
with `orphan_safe` the kernel also stops it when the launcher dies, even by SIGKILL.

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
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

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


class StartStop:
    """`with part:` starts it and stops it on leaving the block, whatever happened inside."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class SpawnedProcess(StartStop):
    """A child process started in two steps: spawn() returns at once and wait_ready() blocks.

    With orphan_safe, spawn() must run on the thread that lives as long as the launcher (its
    main thread): die_with_parent ties the child to the thread that started it. wait_ready()
    may run in any thread (`up` waits in worker threads so its event loop keeps serving).
    """

    proc: subprocess.Popen[bytes] | None
    orphan_safe: bool

    def start(self) -> Self:
        self.spawn()
        self.wait_ready()
        return self

    def spawn(self) -> None:
        raise NotImplementedError

    def wait_ready(self) -> None:
        """Block until ready; if not, stop the process and raise."""
        raise NotImplementedError

    def _popen(self, argv: list[str], log_path: Path, **options: Any) -> None:
        log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent if self.orphan_safe else None, **options,
        )  # fmt: skip


class LocalServer(SpawnedProcess):
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

    def spawn(self) -> None:
        path = shutil.which(self.binary) or shutil.which(self.binary, path="/usr/sbin:/usr/bin")
        if not path:
            shutil.rmtree(self.dir, ignore_errors=True)  # no process will ever own it, nor stop() run
            raise ServerNotInstalledError(
                f"{self.binary} is not installed; run `make system-deps` (Debian package)"
            )
        self._popen(self.command(path), self.dir / "server.log", cwd=self.dir)

    def wait_ready(self) -> None:
        try:
            self.ready()
        except Exception:
            self.stop()
            raise

    def log_text(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


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


def http_status(url: str, timeout: float = 1.0) -> int:
    """The status `url` answers with (an error status too); raises OSError when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


class ManagedProcess(SpawnedProcess):
    """A child process listening on a port, logging to a file, stopped on exit."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        log_dir: Path,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        orphan_safe: bool = False,
        ready_url: str = "",
    ) -> None:
        self.name = name
        self.argv = argv
        self.port = port
        self.log_path = log_dir / f"{name}.log"
        self.startup_timeout = startup_timeout
        # Seconds between SIGTERM and SIGKILL: a process that drains needs its drain budget.
        self.stop_timeout = stop_timeout
        # Have the kernel stop the child when its parent dies, so a killed launcher leaves nothing behind.
        self.orphan_safe = orphan_safe
        # Ready when this answers 200, not when the port opens: the port may open before the process
        # can serve (the gateway's /readyz waits for its routes, the worker's for its broker).
        self.ready_url = ready_url
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        self._popen(self.argv, self.log_path, stdin=subprocess.DEVNULL)

    def wait_ready(self) -> None:
        """Block until ready; if not, stop the process and raise RuntimeError with its log's end."""
        try:
            self._wait_ready()
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"the {self.name} did not start: {exc}; its log ({self.log_path}):\n"
                               f"{self.tail()}") from exc  # fmt: skip

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        wait_for_port(self.port, self.startup_timeout, self.proc)
        if not self.ready_url:
            return
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"it exited with {self.proc.returncode} before {self.ready_url} answered")
            with contextlib.suppress(OSError):
                if http_status(self.ready_url) == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{self.ready_url} did not answer 200 within {self.startup_timeout:g}s")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, self.stop_timeout)

    def tail(self, lines: int = 20) -> str:
        """The end of the process's log, for error messages."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def component_process(
    component: str,
    config: Path,
    flags: list[str],
    port: int,
    ready_url: str,
    log_dir: Path,
    startup_timeout: float = 60.0,
    stop_timeout: float = 10.0,
    orphan_safe: bool = True,
) -> ManagedProcess:
    """`llmaz-serverless <component> --config <config> <flags>` (gateway, worker), not started yet.

    `ready_url` is the component's /readyz; `stop_timeout` its drain budget before SIGKILL.
    """
    argv = [sys.executable, "-m", "llmaz_serverless", component, "--config", str(config), *flags]
    return ManagedProcess(
        component, argv, port, log_dir, startup_timeout, stop_timeout, orphan_safe, ready_url
    )
