"""`llmaz-serverless loadtest`: a bounded locust run with replica sampling, then its report.

    llmaz-serverless loadtest --local --out runs                   # make loadtest
    llmaz-serverless loadtest --target https://gw.example --model llama-3-8b \\
        --scenario 03_burst_after_idle --shape-param idle=360 --prometheus-url http://prom:9090

Exit codes: 0 the run finished and every threshold held; 1 a threshold failed,
locust failed or no request was sent; 2 usage errors and missing servers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command
from llmaz_serverless.cli._from_args import dataclass_from_args
from llmaz_serverless.launcher import ServerNotInstalledError
from llmaz_serverless.loadtest import catalog
from llmaz_serverless.loadtest.distributions import LengthSpecError
from llmaz_serverless.loadtest.localstack import LocalModelOptions
from llmaz_serverless.loadtest.replicas import DEFAULT_READY_QUERY, DEFAULT_REPLICAS_QUERY
from llmaz_serverless.loadtest.runner import RunOptions, run
from llmaz_serverless.report.build import write_report
from llmaz_serverless.report.thresholds import ThresholdsError
from llmaz_serverless.trace.flags import add_trace_flags, transforms_from_args
from llmaz_serverless.trace.replay import TraceReplay, TraceScenario


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def _header(text: str) -> tuple[str, str]:
    key, sep, value = text.partition(":")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return key.strip(), value.strip()


# The emulated model's flags of a --local run: LocalModelOptions field, type, metavar, help. One
# table serves both the parser (`--sim-<field>`, default from LocalModelOptions) and
# options_from_args, so a new field is added in one place.
_SIM_FLAGS: tuple[tuple[str, type, str | None, str], ...] = (
    ("startup_delay", float, "SECONDS", "emulated model load time at each scale-up from zero"),
    ("idle", float, "SECONDS", "idle time after which the emulated model drops to zero replicas"),
    ("fail_rate", float, None, "injected failure fraction"),
    ("max_replicas", int, None, "most emulated replicas (1: the emulator's own 0/1 scale to zero)"),
    ("target_concurrency", float, None, "requests in flight per emulated replica before another is added"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = Command(
        "loadtest",
        help="run a load-test scenario (local stack or --target URL), sample replicas, write the report",
        description="Runs locust headless for a bounded time against the local stack (--local) or any "
        "OpenAI-compatible endpoint (--target), samples replicas per model, and writes RUN_DIR with "
        "requests.csv, replicas.csv, run.json and the report. Scenarios: "
        + "; ".join(f"{s.name}: {s.description}" for s in catalog.SCENARIOS.values()),
    ).add_to(subparsers, run_command)
    _add_run_flags(p)
    _add_request_flags(p.add_argument_group("what is sent"))
    # Replays a trace open loop instead of a scenario's users (--scenario is then ignored).
    add_trace_flags(p)
    _add_replica_flags(p.add_argument_group("replica sampling"))
    _add_local_flags(p.add_argument_group("local stack (--local)"))
    o = p.add_argument_group("output")
    o.add_argument("--no-report", action="store_true", help="write the run data only")
    o.add_argument("--thresholds", type=Path, help="thresholds file (default: loadtest/thresholds.yaml)")
    o.add_argument("--quiet", action="store_true", help="no progress display")


def _add_run_flags(p: argparse.ArgumentParser) -> None:
    """Where the load goes, which scenario, and where the run directory is written."""
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--local",
        action="store_true",
        help="bring up Redis, the model emulator and the gateway on 127.0.0.1 and test them",
    )
    where.add_argument(
        "--target", metavar="URL", help="base URL of a gateway, an interceptor or a model server"
    )
    p.add_argument(
        "--scenario", default="00_mix", help="scenario name or shape (default: 00_mix, the short profile)"
    )
    p.add_argument("--out", type=Path, default=Path("runs"), help="parent directory of the run directory")
    p.add_argument("--name", help="run directory name (default: <UTC time>-<scenario>)")
    p.add_argument(
        "--max-time",
        type=float,
        metavar="SECONDS",
        help="hard bound on the load's duration (default: the scenario's length + 5 s)",
    )


def _add_request_flags(g: argparse._ArgumentGroup) -> None:
    """The request profile: model, API, lengths, rate, headers, shape parameters."""
    g.add_argument("--model", help="OpenAI model id (default: the local emulator's, emulated-llm)")
    g.add_argument("--api", choices=["chat", "completions", "mixed", "async"])
    g.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stream responses (default on; TTFT and inter-token latency need it)",
    )
    g.add_argument(
        "--prompt-tokens",
        metavar="SPEC",
        help="prompt length distribution, e.g. lognormal:median=96,sigma=0.7",
    )
    g.add_argument("--output-tokens", metavar="SPEC", help="output length distribution, e.g. uniform:16,64")
    g.add_argument("--user-rps", type=float, help="requests per second each simulated user aims at")
    g.add_argument(
        "--request-timeout", type=float, metavar="SECONDS", help="budget of one request, cold start included"
    )
    g.add_argument(
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="'NAME: VALUE'",
        help="extra request header (repeatable), e.g. 'Authorization: Bearer ...'",
    )
    g.add_argument(
        "--shape-param",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="override a shape parameter (repeatable), e.g. idle=360",
    )
    g.add_argument("--seed", type=int)


def _add_replica_flags(r: argparse._ArgumentGroup) -> None:
    """Where replica counts are sampled from during the run."""
    r.add_argument(
        "--replicas-from", choices=["auto", "state", "prometheus", "kubernetes", "none"], default="auto"
    )
    r.add_argument("--sample-interval", type=float, metavar="SECONDS", help="default 0.25 local, 1 remote")
    r.add_argument(
        "--state-url", help="JSON state URL with replicas/readyReplicas (e.g. an emulator's /emulator/state)"
    )
    r.add_argument("--prometheus-url", help="Prometheus base URL")
    r.add_argument(
        "--replicas-query", help="PromQL for existing replicas; {model} {playground} {namespace} filled in"
    )
    r.add_argument("--ready-query", help="PromQL for ready replicas")
    r.add_argument("--playground", help="llmaz Playground of the model (default: the model name)")
    r.add_argument("--namespace", default="default")
    r.add_argument("--kubeconfig")


def _add_local_flags(lo: argparse._ArgumentGroup) -> None:
    """The emulated model of --local: one `--sim-*` flag per _SIM_FLAGS row."""
    defaults = LocalModelOptions().record()
    for name, kind, metavar, text in _SIM_FLAGS:
        lo.add_argument(
            "--sim-" + name.replace("_", "-"),
            type=kind,
            default=defaults[name],
            metavar=metavar,
            help=text,
        )
    lo.add_argument("--no-gateway", action="store_true", help="send the load to the emulator directly")


def options_from_args(args: argparse.Namespace) -> RunOptions:
    profile = {
        key: value
        for key, value in {
            "model": args.model, "api": args.api, "stream": args.stream, "prompt_tokens": args.prompt_tokens,
            "output_tokens": args.output_tokens, "user_rps": args.user_rps,
            "request_timeout": args.request_timeout,
            "seed": args.seed, "headers": dict(args.header) or None,
        }.items()
        if value is not None
    }  # fmt: skip
    replay = (
        None if args.trace is None else TraceScenario(TraceReplay(args.trace, transforms_from_args(args)))
    )
    # The fields not given here (scenario, target, out, max_time, namespace ...) are the flags of the
    # same name; these are renamed, negated or built from several flags.
    return dataclass_from_args(
        RunOptions,
        args,
        profile=profile,
        shape_params=dict(args.shape_param),
        # An empty query flag means the default one, as an absent flag does.
        replicas_query=args.replicas_query or DEFAULT_REPLICAS_QUERY,
        ready_query=args.ready_query or DEFAULT_READY_QUERY,
        local_model=LocalModelOptions.from_record(
            {name: getattr(args, "sim_" + name) for name, *_ in _SIM_FLAGS}
        ),
        use_gateway=not args.no_gateway,
        report=not args.no_report,
        progress=not args.quiet,
        argv=list(sys.argv),
        scenario_override=replay,
    )


def run_command(args: argparse.Namespace) -> int:
    try:
        opts = options_from_args(args)
        result = run(opts)
        if opts.report and result.requests:
            report = write_report(result.run_dir, thresholds=opts.thresholds)
            result.report_files = report.files
            result.failed_checks = [f"{c.key} {c.bound} {c.limit:g}: {c.value}" for c in report.failed_checks]
    except (
        ValueError,
        ValidationError,
        LengthSpecError,
        ThresholdsError,
        FileExistsError,
        ServerNotInstalledError,
    ) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(f"run directory: {result.run_dir}")
    for path in result.report_files:
        if path.suffix in (".md", ".html"):
            print(f"report: {path}")
    if not result.requests:
        print("loadtest: no request was sent; see locust.log in the run directory", file=sys.stderr)
        return EXIT_INVALID
    if result.locust_exit not in (0, None):
        return EXIT_INVALID
    if result.failed_checks:
        print("thresholds failed:\n  " + "\n  ".join(result.failed_checks), file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK
