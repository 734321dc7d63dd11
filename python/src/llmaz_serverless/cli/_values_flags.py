"""The values flags of `validate`, `render`, `plan` and `events test`: -f/--values, --set, --chart.

One definition, so every command that reads chart values takes them the same way (files merged in
order like `helm -f`, then `--set`, over the chart's own values.yaml) into the same fields
(`args.values`, `args.set_values`, `args.chart`). The leading underscore keeps this module out of the
command list (cli/__init__.py registers every other module as a command).
"""

from __future__ import annotations

import argparse
from pathlib import Path

VALUES_HELP = "values file (repeatable, merged in order like helm -f)"
CHART_HELP = "chart directory (default: the repo's llmaz-serverless)"


def add_values_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    *,
    values_help: str = VALUES_HELP,
    chart_help: str = CHART_HELP,
) -> None:
    """Add -f/--values (repeatable), --set K=V (repeatable) and --chart DIR to a command."""
    parser.add_argument(
        "-f",
        "--values",
        dest="values",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help=values_help,
    )
    parser.add_argument(
        "--set",
        dest="set_values",
        action="append",
        default=[],
        metavar="K=V",
        help="like helm --set (repeatable)",
    )
    parser.add_argument("--chart", type=Path, default=None, help=chart_help)
