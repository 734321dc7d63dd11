"""The `llmaz-serverless` command line.

Each command lives in its own module in this package and exposes
`register(subparsers)`, which adds its parser and sets `func` (the handler,
taking the parsed namespace and returning an exit code). Modules are found
by name, so adding a command never touches this file. A command declares
its parser as a `Command` (cli/_command.py: name, help, description, epilog
and the shared flag groups), as do sub-commands such as `events test`.

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


def _command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; with `only`, just that command's module is imported and registered."""
    parser = argparse.ArgumentParser(
        prog="llmaz-serverless",
        description="Serverless llmaz models on Kubernetes with KEDA.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only else _command_modules():
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            # The container image installs no optional extras (locust, matplotlib...):
            # list such a command as unavailable instead of breaking every other one.
            if only or not err.name or err.name.startswith("llmaz_serverless"):
                raise
            subparsers.add_parser(name, help=f"unavailable: needs the Python package {err.name!r}")
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Import only the module of the command being run: the others pull in heavy
    # libraries (aiohttp, matplotlib, kopf) that cost seconds on every call.
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(first if first in _command_modules() else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
