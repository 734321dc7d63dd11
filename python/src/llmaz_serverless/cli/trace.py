"""`llmaz-serverless trace`: make and inspect request-arrival traces for `plan` and `loadtest --trace`.

kubectl logs -n llm deploy/llmaz-serverless-gateway > gw.log
llmaz-serverless trace from-logs gw.log -o traffic.csv
llmaz-serverless trace show traffic.csv --thin 0.1 --gaps 60s:30s -o slice.csv
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

from llmaz_serverless.cli import EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command
from llmaz_serverless.trace.flags import add_transform_flags, transforms_from_args
from llmaz_serverless.trace.formats import read_trace, write_trace
from llmaz_serverless.trace.logs import trace_from_logs
from llmaz_serverless.trace.model import Trace
from llmaz_serverless.trace.transforms import apply, rate


def register(subparsers: argparse._SubParsersAction) -> None:
    p = Command(
        "trace",
        help="turn gateway access logs into a trace; show or transform a trace",
        description="Request-arrival traces (format: docs/design/planner.md#trace-format).",
        epilog=__doc__.split("\n\n", 1)[1],
    ).add_to(subparsers)
    sub = p.add_subparsers(dest="trace_command", metavar="ACTION", required=True)
    logs = Command("from-logs", help="the gateway's JSON access logs -> a trace CSV").add_to(sub, from_logs)
    logs.add_argument("logs", nargs="+", type=Path, metavar="LOG", help="files of gateway log lines")
    logs.add_argument("-o", "--output", type=Path, required=True, help="trace CSV to write")
    show_help = "summarise a trace, optionally transformed (and write it with -o)"
    show = Command("show", help=show_help).add_to(sub, show_trace)
    show.add_argument("trace", type=Path, metavar="FILE")
    add_transform_flags(show)
    show.add_argument("-o", "--output", type=Path, help="write the (transformed) trace as CSV")


def _summary(trace: Trace) -> str:
    models = [m for m in trace.models() if m is not None]
    per_model = ", ".join(f"{m}: {len(trace.for_model(m))}" for m in models) if models else "one model"
    gaps = [b.t - a.t for a, b in itertools.pairwise(trace.arrivals)]
    longest = max(gaps, default=0.0)
    lines = [
        trace.describe(),
        f"  {rate(trace.arrivals):.2f} requests/s on average, longest gap between requests {longest:.1f} s",
        f"  models: {per_model}",
    ]
    if trace.attribution:
        lines.append(f"  data: {trace.attribution}")
    return "\n".join(lines)


def from_logs(args: argparse.Namespace) -> int:
    try:
        scan = trace_from_logs(args.logs)
    except (OSError, ValueError) as err:
        print(f"trace from-logs: {err}", file=sys.stderr)
        return EXIT_USAGE
    write_trace(scan.trace, args.output)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(scan.skipped.items())) or "none"
    print(f"{scan.lines} lines read, {len(scan.trace.arrivals)} requests kept (skipped: {skipped})")
    print(_summary(scan.trace))
    print(f"wrote {args.output}")
    return EXIT_OK


def show_trace(args: argparse.Namespace) -> int:
    try:
        trace = apply(read_trace(args.trace), transforms_from_args(args))
    except (OSError, ValueError) as err:
        print(f"trace show: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(_summary(trace))
    if args.output:
        write_trace(trace, args.output)
        print(f"wrote {args.output}")
    return EXIT_OK
