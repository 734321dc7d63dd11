"""`llmaz-serverless up`: the main job on one machine (`make up`).

    llmaz-serverless up --config manifests/local/runtime.yaml

Starts, on loopback: Redis (the config's `redis.url` when it already answers,
else a redis-server on that port), one model-server emulator per model whose
`upstream` is on loopback (on the upstream's port, settings from the config's
`emulator:` section), the gateway (`gateway.host`/`gateway.port`, 8080 in the
local config) and the async worker (`worker:` section; its /metrics and
/readyz on `worker.metricsHost`/`metricsPort`, a free port when that is 0),
each as its own process reading the same config, so the worker reaches Redis
and the models exactly as the gateway does. Prints what runs and curl examples
(cli/_up_examples.py: sync, async, events); Ctrl-C or SIGTERM stops everything:
gateway, then worker (it drains), emulators, Redis. Exits 1 when a part fails
to start or dies, with the reason and the end of its log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import redis
from aiohttp import web
from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK
from llmaz_serverless.cli._command import Command, config
from llmaz_serverless.cli._up_examples import async_example, events_example, sync_example
from llmaz_serverless.config import RuntimeConfig, load_runtime_config
from llmaz_serverless.emulator.app import build_app as build_emulator
from llmaz_serverless.emulator.server import start_site
from llmaz_serverless.emulator.settings import EmulatorSection, EmulatorSettings
from llmaz_serverless.gateway.routing import ModelRoutes
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless.launcher import (
    ManagedProcess,
    RedisServer,
    ServerNotInstalledError,
    component_process,
    free_port,
)
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.toolpaths import repo_root
from llmaz_serverless.worker.settings import WorkerSettings

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_WILDCARD = {"0.0.0.0", "::"}


class UpError(RuntimeError):
    """A part of the stack could not start; the message says which and why."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = Command(
        "up",
        help="run Redis + model emulators + the gateway + the async worker on loopback (`make up`)",
        description="Run the local stack from a runtime.yaml until Ctrl-C or SIGTERM.",
        flags=(config("without either, manifests/local/runtime.yaml of the repository"),),
    ).add_to(subparsers, run)
    parser.add_argument("--port", type=int, default=None, help="gateway port (overrides gateway.port)")
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for each part to answer (default 60)",
    )


@dataclass
class Stack:
    config_path: Path
    runtime: RuntimeConfig
    gateway: GatewaySettings
    worker: WorkerSettings
    emulators: list[EmulatorSettings]
    log_dir: Path
    redis_server: RedisServer | None = None
    redis_note: str = ""
    # The gateway and the worker, in start order (also the stop order).
    services: list[ManagedProcess] = field(default_factory=list)
    emulator_runners: list[web.AppRunner] = field(default_factory=list)


def plan(config_path: Path, port: int | None) -> Stack:
    """Read and check the config; nothing starts here."""
    runtime = load_runtime_config(config_path)
    # --port is the code form of gateway.port: it beats the file, env and flags.
    gateway = GatewaySettings.load(runtime) if port is None else GatewaySettings.load(runtime, port=port)
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
    worker = WorkerSettings.load(runtime)
    broker = QueueSettings.load(runtime).broker
    if broker != "redis":
        raise UpError(f"{config_path}: queue.broker is {broker!r}; up runs Redis only: set it to 'redis'")
    if not worker.metrics_port:
        # up waits for the worker's /readyz, which lives on the metrics listener.
        worker = worker.model_copy(update={"metrics_port": free_port()})
    log_dir = Path(tempfile.mkdtemp(prefix="llmaz-serverless-up-"))
    return Stack(config_path, runtime, gateway, worker, emulators, log_dir)


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


async def start_redis(stack: Stack) -> None:
    url = stack.runtime.redis.url
    if await asyncio.to_thread(_redis_answers, url):
        stack.redis_note = "already running, used as is"
        return
    parts = urlsplit(url)
    if parts.hostname not in _LOOPBACK or not parts.port:
        raise UpError(f"redis.url {url} does not answer and is not a loopback host:port up could start")
    server = RedisServer(port=parts.port, orphan_safe=True)
    try:
        server.spawn()  # on the main thread, as start_service says why
        await asyncio.to_thread(server.wait_ready)
    except (ServerNotInstalledError, RuntimeError, TimeoutError) as err:
        raise UpError(f"redis-server on port {parts.port} (redis.url {url}) did not start: {err}") from err
    stack.redis_server = server
    stack.redis_note = f"started (pid {server.proc.pid if server.proc else '?'})"


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


def _local_url(host: str, port: int) -> str:
    return f"http://{'127.0.0.1' if host in _WILDCARD else host}:{port}"


def _gateway_url(stack: Stack) -> str:
    return _local_url(stack.gateway.host, stack.gateway.port)


def _worker_url(stack: Stack) -> str:
    return _local_url(stack.worker.metrics_host, stack.worker.metrics_port)


async def start_service(stack: Stack, service: ManagedProcess) -> None:
    """Start `service` and wait until its /readyz answers 200 (the launcher's readiness wait)."""
    stack.services.append(service)
    # Spawned on this thread (the main one), which lives as long as `up`: die_with_parent ties the
    # child to the thread that started it. Only the wait runs in a worker thread.
    service.spawn()
    try:
        await asyncio.to_thread(service.wait_ready)
    except RuntimeError as err:
        raise UpError(str(err)) from err


async def start_gateway(stack: Stack, within: float) -> None:
    gw = stack.gateway
    flags = ["--host", gw.host, "--port", str(gw.port)]
    # The gateway drains first: give it its own shutdown budget before SIGKILL.
    budget = gw.shutdown_delay + gw.shutdown_timeout + 5
    ready = f"{_gateway_url(stack)}/readyz"
    service = component_process(
        "gateway", stack.config_path, flags, gw.port, ready, stack.log_dir, within, budget
    )
    await start_service(stack, service)


async def start_worker(stack: Stack, within: float) -> None:
    w = stack.worker
    flags = ["--metrics-host", w.metrics_host, "--metrics-port", str(w.metrics_port)]
    # In-flight jobs finish within drainTimeout; the rest go back to the queue.
    budget = w.drain_timeout + 5
    ready = f"{_worker_url(stack)}/readyz"
    service = component_process(
        "worker", stack.config_path, flags, w.metrics_port, ready, stack.log_dir, within, budget
    )
    await start_service(stack, service)


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
    pids = {s.name: s.proc.pid if s.proc else "?" for s in stack.services}
    lines.append(
        f"  gateway   {gw}  (pid {pids.get('gateway')}, JSON logs in {stack.log_dir / 'gateway.log'})"
    )
    lines.append(
        f"  worker    {_worker_url(stack)}/metrics  (pid {pids.get('worker')}, "
        f"logs in {stack.log_dir / 'worker.log'})"
    )
    first = stack.runtime.models[0].name if stack.runtime.models else "MODEL"
    lines += ["", "Try:", *sync_example(gw, first), "", *async_example(gw, first)]
    events = events_example(gw, stack.runtime)
    if events:
        lines += ["", *events]
    lines += ["", "Ctrl-C stops everything."]
    return "\n".join(lines)


async def stop(stack: Stack) -> None:
    # Gateway first (no new jobs), then the worker, whose in-flight jobs still reach the emulators.
    for service in stack.services:
        await asyncio.to_thread(service.stop)
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
        await start_redis(stack)
        await start_emulators(stack)
        await start_gateway(stack, ready_timeout)
        await start_worker(stack, ready_timeout)
        print(summary(stack), flush=True)
        while not stopping.is_set():
            for service in stack.services:
                code = service.proc.poll() if service.proc else None
                if code is not None:
                    raise UpError(f"the {service.name} exited with {code}; its log:\n{service.tail()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=0.5)
        print("stopping: gateway, worker, emulators, redis", flush=True)
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
