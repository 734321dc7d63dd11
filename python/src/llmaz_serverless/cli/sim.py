"""`llmaz-serverless sim`: run the OpenAI-compatible model-server emulator.

Every field of `EmulatorSettings` is a flag (`--startup-delay 30s`,
`--ttft 0.05`, `--itl 0.02`, `--fail-first 3`, `--hold-while-loading`, ...)
and an env var `LLMAZ_SERVERLESS_EMULATOR__<FIELD>`; flags win.
"""

from __future__ import annotations

import argparse
import asyncio

from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK
from llmaz_serverless.emulator.server import serve
from llmaz_serverless.emulator.settings import EmulatorSettings
from llmaz_serverless.gateway.overrides import add_flags, merge, overrides_from_args, overrides_from_env

ENV_PREFIX = "LLMAZ_SERVERLESS_EMULATOR__"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="run the OpenAI-compatible model-server emulator (vLLM-like answers and metrics)",
        description="A test stand-in for an llmaz model server: /v1/completions, /v1/chat/completions, "
        "/v1/models, /health, /metrics (vLLM names), /emulator/state.",
    )
    add_flags(parser, EmulatorSettings, ENV_PREFIX)
    parser.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> EmulatorSettings:
    data = merge(
        overrides_from_env(EmulatorSettings, ENV_PREFIX), overrides_from_args(EmulatorSettings, args)
    )
    return EmulatorSettings.model_validate(data)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except (ValidationError, ValueError) as err:
        print(f"sim: invalid settings: {err}")
        return EXIT_INVALID
    asyncio.run(serve(settings))
    return EXIT_OK
