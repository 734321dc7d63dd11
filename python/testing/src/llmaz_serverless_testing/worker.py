"""Real local parts for exercising the async path: tests, the benchmark, local demos.

- `WebhookReceiver`: an aiohttp server on 127.0.0.1 that records deliveries,
  verifies their HMAC signature and CloudEvents envelope, and can be told to
  fail the first N deliveries.
- `MotoS3Server`: moto's S3 *emulator* as a subprocess on loopback (no S3
  service is reachable or installable here; moto answers the S3 API).
- `runtime_config()` / `write_runtime_config()`: a runtime.yaml for a worker.
- `start_worker_process()`: `llmaz-serverless worker` as a real subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from llmaz_serverless.launcher import LocalServer
from llmaz_serverless.notify.signing import SIGNATURE_HEADER, verify


@dataclass
class ReceivedWebhook:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    event: dict[str, Any] | None
    answered: int


@dataclass
class WebhookReceiver:
    """Records webhook deliveries; `secrets` maps tenant -> secret for verification."""

    secret: bytes
    fail_first: int = 0
    fail_status: int = 500
    received: list[ReceivedWebhook] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> WebhookReceiver:
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site.port  # the port the OS picked for port 0
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get(SIGNATURE_HEADER, "")
        ok = bool(signature) and verify(self.secret, body, signature)
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        status = self.fail_status if len(self.received) < self.fail_first else 200
        self.received.append(ReceivedWebhook(dict(request.headers), body, ok, event, status))
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()
        return web.Response(status=status, text="ok" if status == 200 else "try again")

    async def wait_for(self, count: int, within: float = 10.0) -> list[ReceivedWebhook]:
        assert self._arrived is not None
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.received) >= count), within)
        return self.received


class MotoS3Server(LocalServer):
    """moto's S3-compatible emulator on loopback (an emulator, not AWS)."""

    binary = sys.executable
    # The binary is a full path, no name for a directory.
    dir_prefix = "moto"
    startup_timeout = 30.0

    def command(self, path: str) -> list[str]:
        return [path, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip


# Credentials moto accepts; boto3 in the worker reads them from the environment.
MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def runtime_config(
    redis_url: str, models: dict[str, str], worker: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A runtime.yaml document: `models` maps model name -> upstream base URL.

    `worker` holds what the chart's `worker.config` holds: the queue contract's keys go to
    `queue:`, the rest to `worker:`, as the chart's templates/_runtime.tpl splits them.
    """
    from llmaz_serverless.queue.settings import QueueSettings

    shared = {field.alias or name for name, field in QueueSettings.model_fields.items()}
    given = worker or {}
    return {
        "models": [
            {"name": name, "playground": name, "upstream": upstream, "timeouts": {"coldStart": "30s"}}
            for name, upstream in models.items()
        ],
        "redis": {"url": redis_url},
        "queue": {key: value for key, value in given.items() if key in shared},
        "worker": {key: value for key, value in given.items() if key not in shared},
    }


def write_runtime_config(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def start_worker_process(
    config: Path, consumer: str, *, log_path: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`llmaz-serverless worker` as a child process; stop it with terminate() or kill()."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - lives with the process
    return subprocess.Popen(
        [sys.executable, "-m", "llmaz_serverless", "worker", "--config", str(config), "--consumer", consumer],
        stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )  # fmt: skip


def wait_until(predicate: Any, timeout: float, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll a synchronous predicate until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout}s")


async def wait_until_async(
    predicate: Any, within: float, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll an async predicate until it returns a truthy value."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise TimeoutError(f"{what} not reached within {within}s")


@asynccontextmanager
async def running_worker(document: dict[str, Any], consumer: str = "worker-1") -> AsyncIterator[Any]:
    """A WorkerService on the current event loop, stopped (drained) on exit."""
    from llmaz_serverless.config import RuntimeConfig
    from llmaz_serverless.worker.service import WorkerService

    service = WorkerService(RuntimeConfig.model_validate(document), consumer=consumer)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    started = asyncio.create_task(service.started.wait())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()  # raises the startup error
    try:
        yield service
    finally:
        stop.set()
        await task


class Client:
    """The producer side as the gateway uses it: submit jobs, read status and results."""

    def __init__(self, document: dict[str, Any]) -> None:
        import redis.asyncio as aioredis

        from llmaz_serverless.config import RuntimeConfig
        from llmaz_serverless.queue import build_broker
        from llmaz_serverless.queue.settings import QueueSettings
        from llmaz_serverless.queue.status import StatusStore
        from llmaz_serverless.queue.submit import Submitter
        from llmaz_serverless.results.objects import build_object_store
        from llmaz_serverless.results.store import ResultStore

        runtime = RuntimeConfig.model_validate(document)
        self.settings = s = QueueSettings.load(runtime, environ={})
        self.redis = aioredis.Redis.from_url(runtime.redis.url)
        self.objects = build_object_store(s.object_store)
        self.broker = build_broker(s, self.redis, consumer="producer", models=[])
        self.status = StatusStore(
            self.redis, key_prefix=s.key_prefix, ttl=s.results.ttl, outbox_stream=s.notify_stream
        )
        self.results = ResultStore(self.redis, s.results, key_prefix=s.key_prefix, objects=self.objects)
        self.submitter = Submitter(
            settings=s, models={m.name: m for m in runtime.models}, broker=self.broker,
            status=self.status, objects=self.objects,
        )  # fmt: skip

    async def __aenter__(self) -> Client:
        await self.broker.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.broker.close()
        await self.redis.aclose()

    async def submit(self, body: dict[str, Any], api: str = "chat", tenant: str = "default") -> str:
        done = await self.submitter.submit(api, body, tenant=tenant)  # type: ignore[arg-type]
        return done.job.id

    async def wait_finished(self, job_id: str, within: float = 15.0) -> dict[str, Any]:
        async def finished() -> dict[str, Any] | None:
            status = await self.status.get(job_id)
            return status if status and status.get("state") in ("succeeded", "failed") else None

        return await wait_until_async(finished, within, what=f"job {job_id} finished")

    async def result(self, job_id: str) -> bytes | None:
        status = await self.status.get(job_id)
        if not status or "result" not in status:
            return None
        return await self.results.get(job_id, status["result"])
