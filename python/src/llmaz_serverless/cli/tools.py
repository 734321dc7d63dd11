"""`llmaz-serverless tools`: show which helm and kubectl the project uses."""

from __future__ import annotations

import argparse
import subprocess

from llmaz_serverless.cli import EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command
from llmaz_serverless.toolpaths import ToolMissingError, find_tool


def register(subparsers: argparse._SubParsersAction) -> None:
    Command("tools", help="show the helm and kubectl in use and their versions").add_to(subparsers, run)


def run(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for tool, version_args in (("helm", ["version", "--short"]), ("kubectl", ["version", "--client"])):
        try:
            path = find_tool(tool)
        except ToolMissingError as err:
            print(err)
            status = EXIT_USAGE
            continue
        out = subprocess.run([str(path), *version_args], capture_output=True, text=True, check=False)
        print(f"{tool}: {path}: {out.stdout.strip().splitlines()[0] if out.stdout else out.stderr.strip()}")
    return status
