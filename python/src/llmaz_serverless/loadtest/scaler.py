"""A LOCAL SIMULATION of KEDA scale-to-zero with the HTTP add-on, for 0..N emulated replicas.

It is not KEDA: it plays the roles of the add-on's interceptor (hold requests
while no replica is ready, count concurrency) and of KEDA/HPA (replicas from
concurrency, scale to zero after an idle period) on one machine, so a local
load test can show 0 -> 1 -> N -> 0 without a cluster. Each replica is a real
`llmaz-serverless sim` process on its own port, loading for `--startup-delay`
seconds (its /health answers 503 until then).

How many replicas to run is decided every `polling_interval` by the package's one
scale-to-zero rule (scale_to_zero.py, which states it): ceil(concurrency /
target_concurrency) up to max_replicas, zero after `scale_to_zero_after` without
traffic, down one at a time after `scale_down_after`. This module adds what runs
it locally: a request at zero wakes a replica at once (like the interceptor's push
to the scaler) and is held until one is ready; replicas are started, health-checked,
drained and stopped as real processes.

    python -m llmaz_serverless.loadtest.scaler --port 9000 --model m --max-replicas 3 -- --ttft 0.03

GET /local-scaler/state answers {model, replicas, readyReplicas, desiredReplicas,
inFlight, held, scaleUpsFromZero, replicaStarts}; every other path is proxied
to the least busy ready replica, streaming as it arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from llmaz_serverless.launcher import free_port
from llmaz_serverless.scale_to_zero import ScaleToZeroRule, ScaleToZeroSettings

STATE_PATH = "/local-scaler/state"
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
}


@dataclass
class ScalerSettings:
    model: str = "emulated-llm"
    # When replicas are added and removed, and how long a request waits for one.
    scaling: ScaleToZeroSettings = field(default_factory=ScaleToZeroSettings)
    # Extra flags for each `llmaz-serverless sim` replica (--startup-delay, --ttft, ...).
    sim_args: list[str] = field(default_factory=list)


@dataclass
class Replica:
    name: str
    port: int
    proc: asyncio.subprocess.Process
    ready: bool = False
    draining: bool = False
    in_flight: int = 0
    # Set while no request runs on it: a draining replica stops once this is set.
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def acquire(self) -> None:
        self.in_flight += 1
        self.idle.clear()

    def release(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.idle.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class LocalScaler:
    def __init__(self, settings: ScalerSettings) -> None:
        self.s = settings
        self.replicas: list[Replica] = []
        self.desired = 0
        self.in_flight = 0
        self.held = 0
        self.rule = ScaleToZeroRule(settings.scaling, last_activity=time.monotonic())
        self.scale_ups_from_zero = 0
        self.replica_starts = 0
        self._ready = asyncio.Condition()
        # One scaling decision at a time: concurrent wake-ups must start one replica, not one each.
        self._scale_lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- replicas --------------------------------------------------------

    def _spawn_task(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_replica(self) -> None:
        port = free_port()
        self.replica_starts += 1
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "llmaz_serverless", "sim", "--model", self.s.model, "--host", "127.0.0.1",
            "--port", str(port), *self.s.sim_args,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        replica = Replica(f"replica-{self.replica_starts}", port, proc)
        self.replicas.append(replica)
        self._spawn_task(self._wait_ready(replica))

    async def _wait_ready(self, replica: Replica) -> None:
        assert self._http is not None
        while replica.proc.returncode is None and not replica.draining:
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with self._http.get(
                    f"{replica.url}/health", timeout=aiohttp.ClientTimeout(total=1)
                ) as r:
                    if r.status == 200:
                        replica.ready = True
                        async with self._ready:
                            self._ready.notify_all()
                        return
            await asyncio.sleep(0.05)

    async def _stop_replica(self, replica: Replica) -> None:
        replica.draining = True
        if replica.in_flight:
            await replica.idle.wait()
        if replica.proc.returncode is None:
            replica.proc.terminate()
            try:
                await asyncio.wait_for(replica.proc.wait(), 10)
            except TimeoutError:
                replica.proc.kill()
                await replica.proc.wait()
        if replica in self.replicas:
            self.replicas.remove(replica)

    def _active(self) -> list[Replica]:
        return [r for r in self.replicas if not r.draining]

    async def _scale_to(self, desired: int) -> None:
        async with self._scale_lock:
            await self._scale_locked(desired)

    async def _scale_locked(self, desired: int) -> None:
        active = self._active()
        if desired > 0 and not active:
            self.scale_ups_from_zero += 1
        for _ in range(desired - len(active)):
            await self._start_replica()
        if desired < len(active):
            # Newest and least busy first: keeps the warm, loaded replicas.
            victims = sorted(active, key=lambda r: (r.in_flight, -self.replicas.index(r)))[
                : len(active) - desired
            ]
            for replica in victims:
                replica.draining = True
                self._spawn_task(self._stop_replica(replica))
        self.desired = desired

    async def wake(self) -> None:
        async with self._scale_lock:
            if not self._active():
                await self._scale_locked(max(1, self.desired))

    async def autoscale(self) -> None:
        while True:
            await asyncio.sleep(self.s.scaling.polling_interval)
            current = len(self._active())
            want = self.rule.decide(time.monotonic(), current, self.in_flight)
            if want != current:
                await self._scale_to(want)

    # -- requests --------------------------------------------------------

    async def _pick(self) -> Replica:
        async with self._ready:
            while True:
                ready = [r for r in self.replicas if r.ready and not r.draining]
                if ready:
                    return min(ready, key=lambda r: r.in_flight)
                await self._ready.wait()

    async def proxy(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        self.in_flight += 1
        self.rule.activity(time.monotonic(), self.in_flight)
        try:
            body = await request.read()
            if not any(r.ready and not r.draining for r in self.replicas):
                self.held += 1
                try:
                    await self.wake()
                    replica = await asyncio.wait_for(self._pick(), self.s.scaling.hold_timeout)
                except TimeoutError:
                    return web.json_response({"error": {"message": "no replica became ready", "code": 504}},
                                             status=504)  # fmt: skip
                finally:
                    self.held -= 1
            else:
                replica = await self._pick()
            replica.acquire()
            if replica.draining:  # picked just as a scale-down chose it: take another
                replica.release()
                replica = await self._pick()
                replica.acquire()
            try:
                headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
                async with self._http.request(
                    request.method, replica.url + request.rel_url.path_qs, data=body, headers=headers
                ) as upstream:
                    response = web.StreamResponse(
                        status=upstream.status,
                        headers={k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP},
                    )
                    await response.prepare(request)
                    async for chunk in upstream.content.iter_any():
                        await response.write(chunk)
                    await response.write_eof()
                    return response
            except aiohttp.ClientError as exc:
                return web.json_response(
                    {"error": {"message": f"replica failed: {exc}", "code": 502}}, status=502
                )
            finally:
                replica.release()
        finally:
            self.in_flight -= 1
            self.rule.activity(time.monotonic())

    def state(self) -> dict[str, Any]:
        return {
            "model": self.s.model,
            "replicas": len(self.replicas),
            "readyReplicas": sum(1 for r in self.replicas if r.ready and not r.draining),
            "desiredReplicas": self.desired,
            "inFlight": self.in_flight,
            "held": self.held,
            "scaleUpsFromZero": self.scale_ups_from_zero,
            "replicaStarts": self.replica_starts,
            "time": time.time(),
        }

    async def state_handler(self, _: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def run(self, port: int) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        app = web.Application(client_max_size=64 << 20)
        app.router.add_get(STATE_PATH, self.state_handler)
        app.router.add_route("*", "/{tail:.*}", self.proxy)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        autoscaler = loop.create_task(self.autoscale())
        try:
            await stop.wait()
        finally:
            autoscaler.cancel()
            await asyncio.gather(
                *(self._stop_replica(r) for r in list(self.replicas)), return_exceptions=True
            )
            await runner.cleanup()
            await self._http.close()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    sim_args: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, sim_args = args[:cut], args[cut + 1 :]
    d = ScaleToZeroSettings()
    p = argparse.ArgumentParser(prog="python -m llmaz_serverless.loadtest.scaler", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--model", default=ScalerSettings.model)
    p.add_argument("--max-replicas", type=int, default=d.max_replicas)
    p.add_argument("--target-concurrency", type=float, default=d.target_concurrency)
    p.add_argument("--scale-to-zero-after", type=float, default=d.scale_to_zero_after)
    p.add_argument("--scale-down-after", type=float, default=d.scale_down_after)
    p.add_argument("--polling-interval", type=float, default=d.polling_interval)
    p.add_argument("--hold-timeout", type=float, default=d.hold_timeout)
    a = p.parse_args(args)
    try:
        scaling = ScaleToZeroSettings(
            a.max_replicas, a.target_concurrency, a.scale_to_zero_after, a.scale_down_after,
            a.polling_interval, a.hold_timeout,
        )  # fmt: skip
    except ValueError as err:
        # The settings' field names are the flags' names, with underscores for dashes.
        p.error("--" + str(err).replace("_", "-"))
    asyncio.run(LocalScaler(ScalerSettings(a.model, scaling, sim_args)).run(a.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
