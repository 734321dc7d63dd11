"""Command-line flags for a trace and its transforms, shared by `loadtest --trace`, `plan` and `trace`."""

from __future__ import annotations

import argparse
from pathlib import Path

from llmaz_serverless.trace.transforms import Transforms, parse_gaps, parse_window


def add_transform_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--window", metavar="START..END", help="keep this part of the trace, e.g. 0s..10m")
    parser.add_argument(
        "--thin", type=float, default=1.0, metavar="FRACTION",
        help="keep this fraction of the requests, e.g. 0.05 (seeded, see --trace-seed)",
    )  # fmt: skip
    parser.add_argument("--trace-seed", type=int, default=1, metavar="N", help="seed of --thin (default 1)")
    parser.add_argument("--speedup", type=float, default=1.0, metavar="X", help="replay X times faster")
    parser.add_argument(
        "--gaps", metavar="EVERY:LENGTH",
        help="insert LENGTH of idle after every EVERY of trace, e.g. 60s:30s (lets the model reach zero)",
    )  # fmt: skip


def add_trace_flags(parser: argparse.ArgumentParser, required: bool = False) -> None:
    group = parser.add_argument_group("trace (format and transforms: docs/design/planner.md)")
    group.add_argument(
        "--trace", type=Path, metavar="FILE", required=required,
        help="request arrivals (.csv or .jsonl; the Azure LLM trace is read as it is)",
    )  # fmt: skip
    add_transform_flags(group)


def transforms_from_args(args: argparse.Namespace) -> Transforms:
    """The transforms the flags ask for; raises ValueError naming the flag on bad input."""
    every, length = parse_gaps(args.gaps) if args.gaps else (None, 0.0)
    return Transforms(
        window=parse_window(args.window) if args.window else None,
        thin=args.thin,
        seed=args.trace_seed,
        speedup=args.speedup,
        gap_every=every,
        gap_length=length,
    )
