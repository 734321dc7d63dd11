"""`llmaz-serverless gateway`: the OpenAI-compatible front door (see llmaz_serverless.gateway).

    llmaz-serverless gateway --config /etc/llmaz-serverless/runtime.yaml [--port 8080] [--cache-ttl 10m]

Every scalar key of the runtime.yaml `gateway:` section is also a flag and an
env var (`cache.maxEntryBytes` = `--cache-max-entry-bytes` =
`LLMAZ_SERVERLESS_GATEWAY__CACHE__MAX_ENTRY_BYTES`), and so is every key of the
`events:` section the gateway serves (`events.maxBodyBytes` =
`--events-max-body-bytes` = `LLMAZ_SERVERLESS_EVENTS__MAX_BODY_BYTES`); flags
win over env, env over the file (llmaz_serverless.settings).
"""

from __future__ import annotations

import argparse
import asyncio

from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK
from llmaz_serverless.cli._command import Command, config, settings
from llmaz_serverless.config import RuntimeConfig, load_runtime_config
from llmaz_serverless.events.settings import EventsSettings
from llmaz_serverless.gateway.logs import setup_logging
from llmaz_serverless.gateway.server import loop_factory, serve
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless.queue.settings import QueueSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    Command(
        "gateway",
        help="run the OpenAI-compatible gateway (routing, cold-start hold, failover, response cache)",
        description="Serve the OpenAI API for every model in the runtime config's `models:` list.",
        flags=(
            config("its `gateway:`, `events:` and `queue:` sections and `models:` list"),
            settings(GatewaySettings, EventsSettings, QueueSettings),
        ),
    ).add_to(subparsers, run)


def run(args: argparse.Namespace) -> int:
    try:
        runtime = load_runtime_config(args.config) if args.config else RuntimeConfig()
        settings = GatewaySettings.load(runtime, args)
        EventsSettings.load(runtime, args)  # recorded in runtime for the events routes
        QueueSettings.load(runtime, args)  # recorded in runtime for the async and events routes
        setup_logging(settings.log_level)
    except (ValidationError, ValueError, OSError) as err:
        print(f"gateway: invalid configuration: {err}")
        return EXIT_INVALID
    try:
        with asyncio.Runner(loop_factory=loop_factory(settings)) as runner:
            runner.run(serve(runtime, settings))
    except ValueError as err:  # routes or auth that cannot work (names the field)
        print(f"gateway: invalid configuration: {err}")
        return EXIT_INVALID
    return EXIT_OK
