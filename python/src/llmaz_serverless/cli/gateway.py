"""`llmaz-serverless gateway`: the OpenAI-compatible front door (see llmaz_serverless.gateway).

    llmaz-serverless gateway --config /etc/llmaz-serverless/runtime.yaml [--port 8080] [--cache-ttl 10m]

Every key of the runtime.yaml `gateway:` section is also a flag and an env var
(`cache.maxEntryBytes` = `--cache-max-entry-bytes` =
`LLMAZ_SERVERLESS_GATEWAY__CACHE__MAX_ENTRY_BYTES`); flags win over env, env
over the file.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK
from llmaz_serverless.gateway.logs import setup_logging
from llmaz_serverless.gateway.overrides import add_flags
from llmaz_serverless.gateway.server import loop_factory, serve
from llmaz_serverless.gateway.settings import ENV_PREFIX, GatewaySettings, load


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gateway",
        help="run the OpenAI-compatible gateway (routing, cold-start hold, failover, response cache)",
        description="Serve the OpenAI API for every model in the runtime config's `models:` list.",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("LLMAZ_SERVERLESS_CONFIG"),
        help="runtime.yaml (env LLMAZ_SERVERLESS_CONFIG); its `gateway:` section and `models:` list",
    )
    add_flags(parser, GatewaySettings, ENV_PREFIX)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        runtime, settings = load(args.config, args)
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
