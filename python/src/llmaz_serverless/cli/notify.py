"""`llmaz-serverless notify receive`: a local endpoint that verifies our webhooks."""

from __future__ import annotations

import argparse
import os

from llmaz_serverless.cli import EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = Command("notify", help="webhook tools: receive and verify signed CloudEvents").add_to(
        subparsers, lambda _args: _usage(parser)
    )
    actions = parser.add_subparsers(dest="notify_command", metavar="ACTION")
    receive = Command(
        "receive",
        help="listen for webhook deliveries, verify each HMAC signature, print them as JSON lines",
    ).add_to(actions, run_receive)
    receive.add_argument("--host", default="127.0.0.1")
    receive.add_argument("--port", type=int, default=8090)
    receive.add_argument("--path", default="/hook")
    receive.add_argument(
        "--secret-env",
        default="WEBHOOK_SECRET",
        help="environment variable holding the tenant's webhook secret (default WEBHOOK_SECRET)",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


def run_receive(args: argparse.Namespace) -> int:
    from aiohttp import web

    from llmaz_serverless.notify.receiver import build_receiver

    secret = os.environ.get(args.secret_env, "")
    if not secret:
        print(
            f"notify receive: set {args.secret_env} to the tenant's webhook secret (the same value as "
            f"in the worker's webhook Secret)"
        )
        return EXIT_USAGE
    print(f"notify receive: listening on http://{args.host}:{args.port}{args.path}", flush=True)
    web.run_app(build_receiver(secret.encode(), args.path), host=args.host, port=args.port, print=None)
    return EXIT_OK
