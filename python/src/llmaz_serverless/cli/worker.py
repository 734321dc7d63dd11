"""`llmaz-serverless worker`: run the async worker (queue -> model -> result store -> webhook).

Reads `models:`, `redis:`, `queue:` and `worker:` from the runtime config. Every scalar
key of `worker:` is also a flag (`--concurrency 64`, `--drain-timeout 2m`) and
an env var (`LLMAZ_SERVERLESS_WORKER__CONCURRENCY`), of `queue:` likewise
(`--queue-claim-idle 30s`, `LLMAZ_SERVERLESS_QUEUE__CLAIM_IDLE`); flags win over env, env
over the file (llmaz_serverless.settings). SIGTERM drains: no new jobs, in-flight ones finish within
`drainTimeout`, the rest go back to the queue for other workers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command, config, settings
from llmaz_serverless.config import load_runtime_config
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.worker.settings import WorkerSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    Command(
        "worker",
        help="run the async inference worker (Redis Streams or NATS JetStream consumer)",
        description="Pull async jobs, call each model through its upstream (the interceptor), store "
        "results, send signed CloudEvents webhooks. Scales from zero with KEDA on the queue backlog.",
        flags=(
            config("its `models:`, `redis:`, `queue:` and `worker:` sections", required=True),
            _add_flags,
            settings(WorkerSettings, QueueSettings),
        ),
    ).add_to(subparsers, run)


def _add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--consumer",
        default=None,
        help="consumer name in the group (default: hostname-pid; the pod name in a cluster)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        # LLMAZ_SERVERLESS_REDIS_URL (the chart's redis.existingSecret) overrides redis.url in there.
        runtime = load_runtime_config(args.config)
        settings = WorkerSettings.load(runtime, args)
        queue = QueueSettings.load(runtime, args)
        from llmaz_serverless.worker.service import WorkerService

        service = WorkerService(runtime, settings=settings, queue=queue, consumer=args.consumer)
    except FileNotFoundError as err:
        print(f"worker: {err}")
        return EXIT_USAGE
    except (ValidationError, ValueError) as err:
        print(f"worker: invalid configuration: {err}")
        return EXIT_INVALID
    asyncio.run(_serve(service))
    return EXIT_OK


async def _serve(service: object) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.run(stop)  # type: ignore[attr-defined]
