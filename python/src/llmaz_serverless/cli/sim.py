"""`llmaz-serverless sim`: run the OpenAI-compatible model-server emulator.

Every field of `EmulatorSettings` is a flag (`--startup-delay 30s`,
`--ttft 0.05`, `--itl 0.02`, `--fail-first 3`, `--hold-while-loading`, ...),
an env var `LLMAZ_SERVERLESS_EMULATOR__<FIELD>` and a key of `emulator.defaults`
in the runtime.yaml given with `--config`; flags win over env, env over the
file (llmaz_serverless.settings).
"""

from __future__ import annotations

import argparse
import asyncio

from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK
from llmaz_serverless.cli._command import Command, config, settings
from llmaz_serverless.config import load_runtime_config
from llmaz_serverless.emulator.server import serve
from llmaz_serverless.emulator.settings import EmulatorSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    Command(
        "sim",
        help="run the OpenAI-compatible model-server emulator (vLLM-like answers and metrics)",
        description="A test stand-in for an llmaz model server: /v1/completions, /v1/chat/completions, "
        "/v1/models, /health, /metrics (vLLM names), /emulator/state.",
        flags=(config("its `emulator.defaults` to start from"), settings(EmulatorSettings)),
    ).add_to(subparsers, run)


def run(args: argparse.Namespace) -> int:
    try:
        runtime = load_runtime_config(args.config) if args.config else None
        settings = EmulatorSettings.load(runtime, args)
    except (ValidationError, ValueError, OSError) as err:
        print(f"sim: invalid settings: {err}")
        return EXIT_INVALID
    asyncio.run(serve(settings))
    return EXIT_OK
