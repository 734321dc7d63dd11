"""`llmaz-serverless worker`: run the async worker (queue -> model -> result store -> webhook).

Reads `models:`, `redis:` and `worker:` from the runtime config. Every scalar
key of `worker:` is also a flag (`--claim-idle 30s`, `--concurrency 64`) and
an env var (`LLMAZ_SERVERLESS_WORKER__CLAIM_IDLE`); flags win over env, env
over the file. SIGTERM drains: no new jobs, in-flight ones finish within
`drainTimeout`, the rest go back to the queue for other workers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.config import load_runtime_config
from llmaz_serverless.gateway.overrides import add_flags
from llmaz_serverless.worker.settings import ENV_PREFIX, WorkerSettings, load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run the async inference worker (Redis Streams or NATS JetStream consumer)",
        description="Pull async jobs, call each model through its upstream (the interceptor), store "
        "results, send signed CloudEvents webhooks. Scales from zero with KEDA on the queue backlog.",
    )
    parser.add_argument("--config", required=True, help="runtime.yaml (models, redis, worker sections)")
    parser.add_argument(
        "--consumer",
        default=None,
        help="consumer name in the group (default: hostname-pid; the pod name in a cluster)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    add_flags(parser, WorkerSettings, ENV_PREFIX)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        # LLMAZ_SERVERLESS_REDIS_URL (the chart's redis.existingSecret) overrides redis.url in there.
        runtime = load_runtime_config(args.config)
        settings = load_settings(runtime, args)
        from llmaz_serverless.worker.service import WorkerService

        service = WorkerService(runtime, settings=settings, consumer=args.consumer)
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
