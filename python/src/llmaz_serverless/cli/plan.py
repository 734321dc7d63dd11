"""`llmaz-serverless plan`: what idle settings cost on a trace, and which are cheapest for your targets.

    llmaz-serverless plan --trace traffic.csv -f values.yaml --cold-start 90s \\
        --max-cold 5% --max-wait-p95 30s --price 2.5 --report plan/
    llmaz-serverless plan --against runs/replay --cold-start docs/reports/local-03_burst_after_idle

Exit codes: 0 printed a plan (and a setting meets the targets; with --against: within 10 %);
1 no setting of the grid meets the targets (with --against: outside 10 %); 2 usage errors.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command
from llmaz_serverless.cli._values_flags import add_values_flags
from llmaz_serverless.config import duration_or_none
from llmaz_serverless.model_timing import ModelTiming
from llmaz_serverless.plan import coldstart
from llmaz_serverless.plan.planner import GridSpec, plan
from llmaz_serverless.plan.search import DEFAULT_COOLDOWNS, DEFAULT_MIN_REPLICAS, Targets
from llmaz_serverless.plan.settings import PLAN_TIMING, CronWindow, Service
from llmaz_serverless.plan.summary import text
from llmaz_serverless.plan.values import load_event_prewarms, load_models
from llmaz_serverless.trace.flags import add_trace_flags, transforms_from_args
from llmaz_serverless.trace.formats import read_trace
from llmaz_serverless.trace.transforms import apply
from llmaz_serverless.values.loader import ValuesFileError
from llmaz_serverless.values.merge import SetSyntaxError


def share(text: str) -> float:
    """`5%` or `0.05` -> 0.05."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a share like 5% or 0.05") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a share lies between 0% and 100%")
    return value


def seconds(text: str) -> float:
    """`30`, `30s`, `5m` -> seconds."""
    try:
        value: float | None = float(text)
    except ValueError:
        value = duration_or_none(text)
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds (30) or a duration (30s, 5m)")
    return value


def _list(kind: Callable[[str], Any], text: str) -> tuple[Any, ...]:
    try:
        return tuple(kind(part.strip()) for part in text.split(",") if part.strip())
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list") from None


def prewarm(text: str) -> CronWindow | str:
    """`START..END[@REPLICAS]` with 5-field cron expressions in UTC, or `auto` / `none`."""
    if text in ("auto", "none"):
        return text
    body, _, replicas = text.partition("@")
    start, sep, end = body.partition("..")
    if not sep or not start.strip() or not end.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected START..END[@REPLICAS], e.g. '0 8 * * 1-5..0 18 * * 1-5'"
        )
    from llmaz_serverless.plan.cron import parse

    try:
        parse(start.strip())
        parse(end.strip())
        n = int(replicas) if replicas else 1
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    # A readable trigger name from the start expression: "0 18 * * 1-5" -> "prewarm-0-18-1-5".
    name = "prewarm-" + "-".join(re.findall(r"[0-9]+", start)) if re.search(r"[0-9]", start) else "prewarm"
    return CronWindow(name, start.strip(), end.strip(), "Etc/UTC", n)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = Command(
        "plan",
        help="simulate scale to zero on a trace: cost, cold requests, waits; recommend idle settings",
        description="Simulates, per model, the decision loop the cluster runs (the HTTP add-on's metric, "
        "KEDA's polling/activation/cooldown, the HPA's stabilization and policies, cron pre-warm windows, "
        "the cold start) over a trace, prints cost and cold-start exposure for the values as given, and "
        "searches a grid of idle settings for the cheapest that meets the targets. Rules and sources: "
        "docs/design/planner.md.",
        epilog=__doc__.split("\n\n", 1)[1],
    ).add_to(subparsers, run)
    add_trace_flags(p)
    v = p.add_argument_group("values")
    add_values_flags(v)
    v.add_argument("--model", help="plan only this model (name or servedName)")
    s = p.add_argument_group("the model's timing")
    s.add_argument(
        "--cold-start", metavar="SECONDS|TIMELINE.json|RUN_DIR",
        help="replica creation to Ready: seconds, a published cold-start timeline, or a run directory",
    )  # fmt: skip
    s.add_argument(
        "--ttft", type=float, help="seconds to the first token (default 0.05; local: the emulator's)"
    )
    s.add_argument("--prefill-per-token", type=float, help="seconds per prompt token (default 0.0002)")
    s.add_argument("--itl", type=float, help="seconds per output token (default 0.02)")
    s.add_argument("--prompt-tokens", type=int, default=512, help="for rows without a count (default 512)")
    s.add_argument("--output-tokens", type=int, default=128, help="for rows without a count (default 128)")
    t = p.add_argument_group("targets and grid")
    t.add_argument("--max-cold", type=share, metavar="SHARE", help="most requests arriving at zero, e.g. 5%%")
    t.add_argument(
        "--max-wait-p95", type=seconds, metavar="DURATION", help="most added wait at p95, e.g. 30s"
    )
    t.add_argument("--max-wait-p99", type=seconds, metavar="DURATION", help="most added wait at p99")
    t.add_argument(
        "--max-timeouts", type=int, default=0, help="requests allowed to time out cold (default 0)"
    )
    t.add_argument(
        "--cooldowns", type=lambda x: _list(seconds, x), default=DEFAULT_COOLDOWNS, metavar="LIST",
        help="cooldownPeriod values to try (default 60,120,300,600,900,1800,3600)",
    )  # fmt: skip
    t.add_argument(
        "--min-replicas", type=lambda x: _list(int, x), default=DEFAULT_MIN_REPLICAS, metavar="LIST",
        help="minReplicaCount values to try (default 0,1)",
    )  # fmt: skip
    t.add_argument(
        "--prewarm", type=prewarm, action="append", default=[], metavar="START..END[@N]|auto|none",
        help="a cron pre-warm window (UTC) to try, repeatable; auto (the default): also the windows the "
        "trace's busy hours suggest; none: only the values' own",
    )  # fmt: skip
    t.add_argument("--no-search", action="store_true", help="only price the values as given")
    t.add_argument("--price", type=float, metavar="PER_GPU_HOUR", help="price of one GPU-hour")
    o = p.add_argument_group("output")
    o.add_argument("--report", type=Path, metavar="DIR", help="write plan.md, plan.html, plan.json and plots")
    c = p.add_argument_group("check against a measured run")
    c.add_argument(
        "--against", type=Path, metavar="RUN_DIR",
        help="simulate the trace a `loadtest --trace` run replayed and compare with what it measured",
    )  # fmt: skip
    c.add_argument(
        "--controller", choices=("local", "keda"), default="local",
        help="what scaled the run: the local stack's scaler (default) or KEDA with -f values",
    )  # fmt: skip


def _service(args: argparse.Namespace, cold: float, timing: ModelTiming = PLAN_TIMING) -> Service:
    """The service model from the flags; `timing`: a local run's emulator timing as the defaults."""
    given = {name: getattr(args, name) for name in ("ttft", "prefill_per_token", "itl")}
    flags = {name: value for name, value in given.items() if value is not None}
    return Service(cold, replace(timing, **flags), args.prompt_tokens, args.output_tokens)


def _command() -> str:
    return shlex.join(["llmaz-serverless", *sys.argv[1:]])


def _against(args: argparse.Namespace, cold: float, source: str) -> int:
    # Imported here: plotting costs seconds that plain planning skips.
    from llmaz_serverless.plan import compare

    if args.controller == "local":
        scaler, timing = compare.local_settings(args.against)
        result = compare.compare(args.against, _service(args, cold, timing), source, local=scaler)
    else:
        models = load_models(args.values, args.set_values, args.chart)
        model = next((m for m in models if args.model in (None, m.name, m.served_name)), None)
        if model is None:
            raise ValueError(f"--model {args.model!r}: not in the values; fix: pass one of their models")
        prewarms = load_event_prewarms(args.values, args.set_values, args.chart)
        result = compare.compare(
            args.against, _service(args, cold), source, keda=model.scaling, prewarms=prewarms,
            model_names=(model.name, model.served_name),
        )  # fmt: skip
    print(compare.text(result))
    if args.report:
        for path in compare.write(result, args.report, _command()):
            if path.suffix in (".md", ".html"):
                print(f"report: {path}")
    return EXIT_OK if result.within else EXIT_INVALID


def run(args: argparse.Namespace) -> int:
    try:
        if not args.cold_start:
            raise ValueError(
                "--cold-start is required: seconds (90s), a cold-start timeline JSON or a run directory"
            )
        cold, source = coldstart.resolve(args.cold_start)
        if args.against is not None:
            return _against(args, cold, source)
        if args.trace is None:
            raise ValueError("--trace FILE is required (or --against RUN_DIR)")
        trace = apply(read_trace(args.trace), transforms_from_args(args))
        models = load_models(args.values, args.set_values, args.chart)
        targets = Targets(args.max_cold, args.max_wait_p95, args.max_wait_p99, args.max_timeouts)
        grid = (
            None
            if args.no_search
            else GridSpec(
                tuple(args.cooldowns),
                tuple(args.min_replicas),
                tuple(w for w in args.prewarm if isinstance(w, CronWindow)),
                auto_prewarm="none" not in args.prewarm,
            )
        )
        prewarms = load_event_prewarms(args.values, args.set_values, args.chart)
        result = plan(
            trace, models, _service(args, cold), source, targets, grid, args.price, args.model, prewarms
        )
    except (ValueError, ValuesFileError, SetSyntaxError, OSError) as err:
        print(f"plan: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(text(result))
    if args.report:
        from llmaz_serverless.plan import report

        for path in report.write(result, args.report, _command()):
            if path.suffix in (".md", ".html"):
                print(f"report: {path}")
    if grid is not None and any(m.chosen is None for m in result.models):
        return EXIT_INVALID
    return EXIT_OK
