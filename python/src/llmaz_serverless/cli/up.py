"""`llmaz-serverless up`: the main job on one machine (`make up`).

    llmaz-serverless up --config manifests/local/runtime.yaml

Starts, on loopback: Redis (the config's `redis.url` when it already answers,
else a redis-server on that port), one model-server emulator per model whose
`upstream` is on loopback (on the upstream's port, settings from the config's
`emulator:` section), and the gateway (`gateway.host`/`gateway.port`, 8080 in
the local config) as its own process. Prints what runs and a curl to try;
Ctrl-C or SIGTERM stops everything, gateway first. Exits 1 when a part fails
to start or dies, with the reason and the end of its log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import redis
from aiohttp import web
from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK
from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.emulator.app import build_app as build_emulator
from llmaz_serverless.emulator.server import start_site
from llmaz_serverless.emulator.settings import EmulatorSection, EmulatorSettings
from llmaz_serverless.gateway.routing import ModelRoutes
from llmaz_serverless.gateway.settings import GatewaySettings, load
from llmaz_serverless.localserver import RedisServer, ServerNotInstalledError, stop_process
from llmaz_serverless.toolpaths import repo_root

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_PR_SET_PDEATHSIG = 1


class UpError(RuntimeError):
    """A part of the stack could not start; the message says which and why."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run Redis + model emulators + the gateway on loopback (the local stack, `make up`)",
        description="Run the local stack from a runtime.yaml until Ctrl-C or SIGTERM.",
    )
    parser.add_argument(
        "--config",
        default=None,
        help="runtime.yaml (default: manifests/local/runtime.yaml of the repository)",
    )
    parser.add_argument("--port", type=int, default=None, help="gateway port (overrides gateway.port)")
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for each part to answer (default 60)",
    )
    parser.set_defaults(func=run)


@dataclass
class Stack:
    config_path: Path
    runtime: RuntimeConfig
    gateway: GatewaySettings
    emulators: list[EmulatorSettings]
    log_dir: Path
    redis_server: RedisServer | None = None
    redis_note: str = ""
    gateway_proc: subprocess.Popen[bytes] | None = None
    emulator_runners: list[web.AppRunner] = field(default_factory=list)


def plan(config_path: Path, port: int | None) -> Stack:
    """Read and check the config; nothing starts here."""
    runtime, gateway = load(config_path)
    if port is not None:
        gateway = gateway.model_copy(update={"port": port})
    ModelRoutes(runtime)  # the gateway would refuse these routes: say so before starting anything
    section = runtime.section("emulator", EmulatorSection)
    names = {m.name for m in runtime.models}
    unknown = sorted(set(section.models) - names)
    if unknown:
        raise UpError(
            f"{config_path}: emulator.models names {unknown}, which are not in models: {sorted(names)}"
        )
    emulators = []
    for model in runtime.models:
        parts = urlsplit(model.upstream)
        if parts.hostname in _LOOPBACK and parts.port:
            emulators.append(section.settings_for(model.name, parts.hostname or "127.0.0.1", parts.port))
    log_dir = Path(tempfile.mkdtemp(prefix="llmaz-serverless-up-"))
    return Stack(config_path, runtime, gateway, emulators, log_dir)


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def start_redis(stack: Stack) -> None:
    url = stack.runtime.redis.url
    if _redis_answers(url):
        stack.redis_note = "already running, used as is"
        return
    parts = urlsplit(url)
    if parts.hostname not in _LOOPBACK or not parts.port:
        raise UpError(f"redis.url {url} does not answer and is not a loopback host:port up could start")
    try:
        stack.redis_server = RedisServer(port=parts.port).start()
    except (ServerNotInstalledError, RuntimeError, TimeoutError) as err:
        raise UpError(f"redis-server on port {parts.port} (redis.url {url}) did not start: {err}") from err
    stack.redis_note = f"started (pid {stack.redis_server.proc.pid if stack.redis_server.proc else '?'})"


async def start_emulators(stack: Stack) -> None:
    for settings in stack.emulators:
        try:
            runner, _ = await start_site(build_emulator(settings), settings.host, settings.port)
        except OSError as err:
            raise UpError(
                f"emulator for model {settings.model} cannot listen on {settings.host}:{settings.port} "
                f"(its upstream in {stack.config_path}): {err}"
            ) from err
        stack.emulator_runners.append(runner)


def _die_with_parent() -> None:
    # The gateway must not outlive `up` even when `up` is killed with SIGKILL.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_gateway(stack: Stack) -> None:
    command = [sys.executable, "-m", "llmaz_serverless", "gateway", "--config", str(stack.config_path),
               "--host", stack.gateway.host, "--port", str(stack.gateway.port)]  # fmt: skip
    log = open(stack.log_dir / "gateway.log", "wb")  # noqa: SIM115 - lives as long as the process
    stack.gateway_proc = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
    )


def _gateway_url(stack: Stack) -> str:
    host = stack.gateway.host if stack.gateway.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{stack.gateway.port}"


def _tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def wait_gateway_ready(stack: Stack, within: float) -> None:
    url = f"{_gateway_url(stack)}/readyz"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    proc = stack.gateway_proc
    assert proc is not None
    while loop.time() < deadline:
        if proc.poll() is not None:
            raise UpError(
                f"the gateway exited with {proc.returncode} while starting; its log:\n"
                f"{_tail(stack.log_dir / 'gateway.log')}"
            )
        try:
            status = await asyncio.to_thread(_get_status, url)
            if status == 200:
                return
        except (OSError, urllib.error.URLError):
            pass
        await asyncio.sleep(0.2)
    raise UpError(
        f"the gateway did not answer {url} within {within:g}s; log: {stack.log_dir / 'gateway.log'}"
    )


def _get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def summary(stack: Stack) -> str:
    gw = _gateway_url(stack)
    lines = ["llmaz-serverless up: the local stack is running", ""]
    lines.append(f"  redis     {stack.runtime.redis.url}  ({stack.redis_note})")
    for s in stack.emulators:
        zero = f", back to zero after {s.scale_to_zero_after:g}s idle" if s.scale_to_zero_after else ""
        lines.append(
            f"  emulator  {s.model:<14} http://{s.host}:{s.port}  (load {s.startup_delay:g}s, "
            f"ttft {s.ttft:g}s, itl {s.itl:g}s{zero})"
        )
    emulated = {s.model for s in stack.emulators}
    for m in stack.runtime.models:
        if m.name not in emulated:
            lines.append(f"  upstream  {m.name:<14} {m.upstream}  (not on loopback: not emulated)")
    pid = stack.gateway_proc.pid if stack.gateway_proc else "?"
    lines.append(f"  gateway   {gw}  (pid {pid}, JSON logs in {stack.log_dir / 'gateway.log'})")
    first = stack.runtime.models[0].name if stack.runtime.models else "MODEL"
    body = json.dumps({"model": first, "messages": [{"role": "user", "content": "hi"}]})
    lines += [
        "",
        "Try:",
        f"  curl -s {gw}/v1/models",
        f"  curl -s {gw}/v1/chat/completions -H 'content-type: application/json' \\",
        f"    -d '{body}'",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


async def stop(stack: Stack) -> None:
    proc = stack.gateway_proc
    if proc is not None:
        # The gateway drains first: give it its own shutdown budget before SIGKILL.
        budget = stack.gateway.shutdown_delay + stack.gateway.shutdown_timeout + 5
        await asyncio.to_thread(stop_process, proc, budget)
    for runner in stack.emulator_runners:
        await runner.cleanup()
    if stack.redis_server is not None:
        await asyncio.to_thread(stack.redis_server.stop)


async def run_stack(stack: Stack, ready_timeout: float) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    status = EXIT_OK
    try:
        await asyncio.to_thread(start_redis, stack)
        await start_emulators(stack)
        start_gateway(stack)
        await wait_gateway_ready(stack, ready_timeout)
        print(summary(stack), flush=True)
        proc = stack.gateway_proc
        assert proc is not None
        while not stopping.is_set():
            if proc.poll() is not None:
                tail = _tail(stack.log_dir / "gateway.log")
                raise UpError(f"the gateway exited with {proc.returncode}; its log:\n{tail}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=0.5)
        print("stopping: gateway, emulators, redis", flush=True)
    except UpError as err:
        print(f"up: {err}", file=sys.stderr, flush=True)
        status = EXIT_INVALID
    finally:
        await stop(stack)
    return status


def run(args: argparse.Namespace) -> int:
    config = Path(args.config) if args.config else repo_root() / "manifests/local/runtime.yaml"
    try:
        stack = plan(config, args.port)
    except (UpError, ValidationError, ValueError, OSError) as err:
        print(f"up: invalid configuration {config}: {err}", file=sys.stderr)
        return EXIT_INVALID
    return asyncio.run(run_stack(stack, args.ready_timeout))
