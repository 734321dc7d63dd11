"""`llmaz-serverless report RUN_DIR`: HTML + Markdown + PNG report of a load-test run.

Writes report.html (self-contained), summary.md, summary.json and the PNG
plots into RUN_DIR (or --out). Exit codes: 0 written and every threshold held,
1 a threshold failed, 2 RUN_DIR is not a run or thresholds.yaml is malformed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command
from llmaz_serverless.report.build import write_report
from llmaz_serverless.report.rundata import RunDirError
from llmaz_serverless.report.thresholds import ThresholdsError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = Command("report", help="write the HTML/Markdown/PNG report of a load-test run directory").add_to(
        subparsers, run
    )
    p.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="a directory written by `llmaz-serverless loadtest`"
    )
    p.add_argument("--out", type=Path, help="write the report here instead of into RUN_DIR")
    p.add_argument("--thresholds", type=Path, help="thresholds file (default: loadtest/thresholds.yaml)")


def run(args: argparse.Namespace) -> int:
    try:
        report = write_report(args.run_dir, args.out, args.thresholds)
    except (RunDirError, ThresholdsError) as err:
        print(f"report: {err}", file=sys.stderr)
        return EXIT_USAGE
    for path in report.files:
        if path.suffix in (".md", ".html"):
            print(f"report: {path}")
    m = report.summary.metrics
    print(
        f"{m['requests']} requests, error rate {m['error_rate'] or 0:.2%}, "
        f"{m['cold_requests']} waited for {m['cold_events']} scale-up(s) from zero"
        + (
            f", {m['replica_seconds_saved_pct']:.1f}% replica-seconds saved vs always-on at peak"
            if m.get("replica_seconds_saved_pct") is not None
            else ""
        )
    )
    if report.failed_checks:
        print(
            "thresholds failed:\n  "
            + "\n  ".join(f"{c.key}: {c.value} (limit {c.bound} {c.limit:g})" for c in report.failed_checks),
            file=sys.stderr,
        )
        return EXIT_INVALID
    return EXIT_OK
