"""`llmaz-serverless validate`: check values files before they reach a cluster."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command, values_and_output
from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless.values.loader import ValuesFileError
from llmaz_serverless.values.merge import SetSyntaxError
from llmaz_serverless.values.rules import RULES
from llmaz_serverless.values.schema import ChartSchemaError
from llmaz_serverless.values.validate import validate_values

EPILOG = """\
Values files are merged like Helm merges them (later -f wins, maps merge,
lists are replaced, --set last, chart defaults underneath), then checked
against the chart's own values.schema.json and the semantic rules
(--list-rules). The error rules are the checks the chart itself applies at
`helm install` (same ids, same limits); warnings are what only this command
can check. Every problem is printed at once as
  FILE:LINE: SEVERITY: path.to.field: what is wrong (got X); fix: ... [rule]

exit codes:
  0  valid (warnings allowed unless --strict)
  1  invalid: at least one error (or a warning with --strict)
  2  usage error: unreadable file, bad --set, no chart schema
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    Command(
        "validate",
        help="check values files against the chart schema and the serverless rules",
        description="Check values files against the chart's values.schema.json and semantic rules.",
        epilog=EPILOG,
        flags=(values_and_output("text", "json"), _add_flags),
    ).add_to(subparsers, run)


def _add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument(
        "--skip-rule", "--ignore", dest="skip_rule", action="append", default=[], metavar="ID",
        help="do not run this rule (repeatable); the chart still enforces its error rules at install",
    )  # fmt: skip
    parser.add_argument("--list-rules", action="store_true", help="print the rule ids and what they check")
    # Opt-in: simulate the values on a traffic trace and warn about cold starts (plan/warning.py).
    parser.add_argument(
        "--trace", type=Path, metavar="FILE",
        help="also warn when, on this trace, a model's settings send over 5%% of requests into a cold start",
    )  # fmt: skip
    parser.add_argument(
        "--cold-start", type=float, metavar="SECONDS",
        help="with --trace: seconds from a replica's creation to Ready (default: backend load + warmup)",
    )  # fmt: skip


def _list_rules() -> int:
    for rule in RULES:
        print(f"{rule.id} ({rule.severity}): {rule.title}")
        print(textwrap.indent(textwrap.fill(rule.doc, 96), "    "))
    return EXIT_OK


def _trace_warnings(args: argparse.Namespace, chart: Path) -> list[str]:
    from llmaz_serverless.plan.warning import trace_warnings  # numpy and the simulator: only when asked

    try:
        return trace_warnings(args.trace, args.values, args.set_values, chart, args.cold_start)
    except ValueError as err:  # an unreadable trace is reported, the values verdict still stands
        return [f"{args.trace}: warning: {err} [plan/cold-share]"]


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        return _list_rules()
    known = {r.id for r in RULES}
    unknown = [r for r in args.skip_rule if r not in known]
    if unknown:
        print(f"validate: unknown rule id(s): {', '.join(unknown)}; see --list-rules", file=sys.stderr)
        return EXIT_USAGE
    chart = args.chart or chart_dir()
    try:
        report = validate_values(args.values, chart, args.set_values, set(args.skip_rule))
    except (ValuesFileError, SetSyntaxError, ChartSchemaError) as err:
        print(f"validate: {err}", file=sys.stderr)
        return EXIT_USAGE
    ok = report.ok(args.strict)
    warnings = _trace_warnings(args, chart) if args.trace else []
    ok = ok and not (args.strict and warnings)
    if args.output == "json":
        extra = {"trace_warnings": warnings} if args.trace else {}
        print(json.dumps({**report.as_dict(args.strict), **extra}, indent=2))
    else:
        for problem in report.problems:
            print(problem.text())
        for line in warnings:
            print(line)
        names = ", ".join(str(f) for f in args.values) or "chart defaults"
        verdict = "valid" if ok else "INVALID"
        print(f"{names}: {verdict} ({len(report.errors)} errors, {len(report.warnings)} warnings)")
    return EXIT_OK if ok else EXIT_INVALID
