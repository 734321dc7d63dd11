"""`llmaz-serverless warmup`: the install hook (`--once`) and the warmup controller.

llmaz-serverless warmup --once --config runtime.yaml [--model NAME ...] [--force] [--json]
llmaz-serverless warmup controller --config runtime.yaml

Every scalar key of the runtime.yaml `warmup:` section is also a flag, before
or after `controller` (`--hook-attempts 3`, `--max-concurrent-warmups 4`), and an
env var (`LLMAZ_SERVERLESS_WARMUP__HOOK__ATTEMPTS`); flags win over env, env over
the file (llmaz_serverless.settings).
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command, config, settings
from llmaz_serverless.config import RuntimeConfig, load_runtime_config
from llmaz_serverless.warmup.settings import WarmupSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = Command(
        "warmup",
        help="pre-warm models once (Helm hook) or run the warmup controller",
        description="With --once: the post-install/post-upgrade hook. It wakes and warms models through "
        "the interceptor only when warmup.onInstall is true (or --force), and reports the measured cold "
        "start. `warmup controller` runs the readiness-gate controller and its admission webhook.",
        flags=(
            config("its `warmup:` section and `models:` list (the chart renders it)"),
            _add_hook_flags,
            settings(WarmupSettings),
        ),
    ).add_to(subparsers, run_once)
    sub = parser.add_subparsers(dest="warmup_command", metavar="SUBCOMMAND")
    Command(
        "controller",
        help="run the warmup controller (kopf operator + webhook)",
        flags=(
            config("its `warmup:` section and `models:` list", keep_earlier=True),
            _add_controller_flags,
            # Flags given before `controller` (on `warmup`) count unless repeated after it.
            settings(WarmupSettings, default=argparse.SUPPRESS),
        ),
    ).add_to(sub, run_controller)


def _add_hook_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="pre-warm once and exit (the Helm hook)")
    parser.add_argument(
        "--model", action="append", dest="models", metavar="NAME", help="pre-warm only this model (repeat)"
    )
    parser.add_argument("--force", action="store_true", help="pre-warm even when warmup.onInstall is false")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _add_controller_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")


def _load(args: argparse.Namespace) -> tuple[RuntimeConfig, WarmupSettings] | None:
    if not args.config:
        print("warmup: --config PATH is required (the runtime.yaml the chart renders)")
        return None
    try:
        config = load_runtime_config(args.config)
        # Recorded in `config`: the hook and the controller read the same effective settings.
        return config, WarmupSettings.load(config, args)
    except (OSError, ValueError, ValidationError) as err:
        print(f"warmup: cannot use {args.config}: {err}")
        return None


def run_once(args: argparse.Namespace) -> int:
    from llmaz_serverless.warmup import hook

    if not args.once:
        print("warmup: say what to run: `warmup --once` (the hook) or `warmup controller`")
        return EXIT_USAGE
    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID if args.config else EXIT_USAGE
    config, settings = loaded
    if not settings.on_install and not args.force:
        print(
            "warmup: warmup.onInstall is false: no model is woken or pre-warmed "
            "(models stay at zero until their first request)"
        )
        return EXIT_OK
    try:
        models = hook.select_models(config, settings, args.models)
    except hook.UnknownModelError as err:
        print(f"warmup: {err}")
        return EXIT_INVALID
    if not models:
        print("warmup: no model has warmup enabled; nothing to pre-warm")
        return EXIT_OK
    print(f"warmup: pre-warming {', '.join(m.name for m in models)} through their upstream", flush=True)
    results = asyncio.run(hook.prewarm(config, models))
    if args.json:
        print(hook.report_json(results))
    else:
        for result in results:
            print(result.line())
    failed = [r.model for r in results if not r.ok]
    if failed and settings.hook.fail_release:
        print(f"warmup: not warmed: {', '.join(failed)} (warmup.hook.failRelease is true)")
        return EXIT_INVALID
    return EXIT_OK


def run_controller(args: argparse.Namespace) -> int:
    from llmaz_serverless.warmup.kube import KubeApiError
    from llmaz_serverless.warmup.operator import NoModelsError
    from llmaz_serverless.warmup.operator import run_controller as run

    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=args.log_level.upper(), format=log_format)
    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID if args.config else EXIT_USAGE
    config, _ = loaded
    try:
        asyncio.run(run(config))
    except (NoModelsError, KubeApiError) as err:
        print(f"warmup controller: {err}")
        return EXIT_INVALID
    return EXIT_OK
