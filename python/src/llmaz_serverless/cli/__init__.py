"""The `llmaz-serverless` command line.

Each command lives in its own module in this package and exposes
`register(subparsers)`, which adds its parser and sets `func` (the handler,
taking the parsed namespace and returning an exit code). Modules are found
by name, so adding a command never touches this file.

Exit codes shared by every command: 0 ok, 1 the input is invalid or the work
failed, 2 usage error or a missing tool.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from llmaz_serverless import __version__

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmaz-serverless",
        description="Serverless llmaz models on Kubernetes with KEDA.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
