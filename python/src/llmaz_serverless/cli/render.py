"""`llmaz-serverless render`: run the real `helm template` and validate every object."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command, values_and_output
from llmaz_serverless.cli._from_args import dataclass_from_args
from llmaz_serverless.render.documents import ManifestError, split_manifest
from llmaz_serverless.render.helm import (
    DEFAULT_NAMESPACE,
    DEFAULT_RELEASE,
    HelmTemplateError,
    TemplateRequest,
    helm_template,
)
from llmaz_serverless.render.schemas import DEFAULT_KUBE_VERSION, SchemaStore, UnsupportedKubeVersionError
from llmaz_serverless.render.validate import STATUS_OK, ObjectReport, validate_objects
from llmaz_serverless.toolpaths import ToolMissingError, chart_dir
from llmaz_serverless.values.loader import ValuesFileError
from llmaz_serverless.values.merge import SetSyntaxError
from llmaz_serverless.values.schema import ChartSchemaError
from llmaz_serverless.values.validate import validate_values

EPILOG = """\
Every object is checked against its schema: core kinds against the
Kubernetes OpenAPI schema (kubernetes-validate, offline, strict: unknown
fields are errors), KEDA, HTTP add-on, llmaz and Prometheus-operator kinds
against the schemas in llmaz_serverless/render/crds, plus the rules a
schema cannot state (KEDA's webhook checks, one scaler per target, names).

exit codes:
  0  every object is valid
  1  invalid: helm refused the values (schema or `fail`), or an object is invalid
  2  usage or tool error: helm missing (run `make tools`), bad arguments
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    values_help = "values file (repeatable, passed to helm -f in order)"
    Command(
        "render",
        help="helm template the chart and validate every rendered object",
        description="Render the chart with the real `helm template` and validate every object.",
        epilog=EPILOG,
        flags=(values_and_output("table", "json", values_help=values_help), _add_flags),
    ).add_to(subparsers, run)


def _add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--release", default=DEFAULT_RELEASE, help=f"release name (default {DEFAULT_RELEASE})"
    )
    parser.add_argument(
        "--namespace", "-n", default=DEFAULT_NAMESPACE, help=f"namespace (default {DEFAULT_NAMESPACE})"
    )
    parser.add_argument(
        "--api-versions", action="append", default=[], metavar="GROUP/VERSION",
        help="capability helm should assume, e.g. monitoring.coreos.com/v1 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--kube-version", default=DEFAULT_KUBE_VERSION,
        help=f"Kubernetes version for helm and the core schemas (default {DEFAULT_KUBE_VERSION})",
    )  # fmt: skip
    parser.add_argument("--is-upgrade", action="store_true", help="render as helm upgrade would")
    parser.add_argument(
        "--manifest", type=Path, default=None, metavar="FILE",
        help="validate this already rendered manifest ('-' for stdin) instead of running helm",
    )  # fmt: skip


def _manifest(args: argparse.Namespace) -> str:
    if args.manifest is not None:
        if str(args.manifest) == "-":
            return sys.stdin.read()
        return args.manifest.read_text(encoding="utf-8")
    # The other fields (set_values, release, namespace, ...) are the flags of the same name.
    request = dataclass_from_args(
        TemplateRequest, args, chart=args.chart or chart_dir(), values_files=args.values
    )
    return helm_template(request)


def _values_problems(args: argparse.Namespace) -> list[str]:
    """The errors `validate` reports for the values helm refused (none when it cannot read them)."""
    try:
        report = validate_values(args.values, args.chart or chart_dir(), args.set_values)
    except (ValuesFileError, SetSyntaxError, ChartSchemaError):
        return []
    return [p.text() for p in report.errors]


def _table(reports: list[ObjectReport]) -> str:
    rows = [("KIND", "NAME", "STATUS", "TEMPLATE")]
    rows += [(r.kind or "?", r.name or "?", r.status, r.source) for r in reports]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)).rstrip()
        )
        if index > 0:
            report = reports[index - 1]
            lines += [f"    - {p.sentence()}" for p in report.problems]
    bad = sum(1 for r in reports if r.status != STATUS_OK)
    lines.append(f"{len(reports)} objects, {bad} invalid")
    return "\n".join(lines)


def _fail(message: str, code: int) -> int:
    print(f"render: {message}", file=sys.stderr)
    return code


def _helm_refused(args: argparse.Namespace, err: HelmTemplateError) -> int:
    # helm stops at its first complaint; `validate` on the same input lists them all, with lines.
    problems = _values_problems(args)
    if args.output == "json":
        doc = {"valid": False, "helmError": err.stderr, "valuesProblems": problems, "objects": []}
        print(json.dumps(doc, indent=2))
    else:
        print(f"render: helm template refused the chart:\n{err.stderr}", file=sys.stderr)
        if problems:
            print("render: `validate` finds in the same values:", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
    return EXIT_INVALID


def run(args: argparse.Namespace) -> int:
    try:
        store = SchemaStore(args.kube_version)
    except UnsupportedKubeVersionError as err:
        return _fail(str(err), EXIT_USAGE)
    try:
        manifest = _manifest(args)
    except ToolMissingError as err:
        return _fail(str(err), EXIT_USAGE)
    except FileNotFoundError as err:
        return _fail(f"{err.filename}: no such file", EXIT_USAGE)
    except HelmTemplateError as err:
        return _helm_refused(args, err)
    try:
        objects = split_manifest(manifest)
    except ManifestError as err:
        return _fail(str(err), EXIT_INVALID)
    reports = validate_objects(objects, store, args.namespace)
    ok = all(r.status == STATUS_OK for r in reports)
    if args.output == "json":
        print(
            json.dumps(
                {"valid": ok, "kubeVersion": store.kube_version, "objects": [r.as_dict() for r in reports]},
                indent=2,
            )
        )
    else:
        print(_table(reports))
    return EXIT_OK if ok else EXIT_INVALID
