#!/usr/bin/env python3
"""Regenerate (or check) what is derived in the charts: README tables and runtime-section schemas.

Each chart's README.md is written by hand except its `## Parameters`
section, which bitnami's readme-generator-for-helm builds from the
`## @section` / `## @param` comments in values.yaml. The generator comes from
npm (package.json / package-lock.json at the repository root, installed into
./node_modules on first use). It refuses values files with an undocumented
key, so a key without a comment fails here too.

The `config` maps of `gateway`, `worker` and `warmup` in values.schema.json
are derived from the components' section models
(`llmaz_serverless.<component>.settings`), minus the keys the chart writes
itself from their own values (ports, streams, certificate paths), so a typo in
`gateway.config` fails `helm install` like any other unknown key. The rest of
the schema is written by hand.

    python scripts/gen_chart_docs.py            # rewrite the READMEs (make docs)
    python scripts/gen_chart_docs.py --check    # exit 1 when a README is stale (CI)
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import json
import shutil
import subprocess
import sys
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHARTS = ROOT / "charts"
GENERATOR = ROOT / "node_modules" / ".bin" / "readme-generator"


class DocsError(RuntimeError):
    """A README could not be generated; the message says why and what to do."""


# component -> (settings module, section model, keys the chart writes from its own values)
SECTIONS = {
    "gateway": ("llmaz_serverless.gateway.settings", "GatewaySettings", {"port"}),
    "worker": (
        "llmaz_serverless.worker.settings",
        "WorkerSettings",
        {"streamPrefix", "consumerGroup", "metricsPort", "broker", "nats"},
    ),
    "warmup": ("llmaz_serverless.warmup.settings", "WarmupSettings", {"onInstall", "metricsPort", "webhook"}),
}


def _field_schema(annotation: Any, metadata: list[Any]) -> dict[str, Any]:
    """draft-07 schema of one pydantic field, from its annotation and constraints."""
    from llmaz_serverless.config import DURATION_PATTERN, OPTIONAL_DURATION_PATTERN, parse_duration
    from pydantic import BaseModel, BeforeValidator

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    optional = origin in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        (annotation,) = [a for a in args if a is not type(None)]
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if any(isinstance(m, BeforeValidator) and m.func is parse_duration for m in metadata):
        # Durations: seconds as a number, or "90s" / "5m" / "1h30m" (config.py's one grammar;
        # "" means none only where the field is optional).
        pattern = OPTIONAL_DURATION_PATTERN if optional else DURATION_PATTERN
        schema: dict[str, Any] = {"anyOf": [{"type": "number", "minimum": 0},
                                            {"type": "string", "pattern": pattern}]}  # fmt: skip
    elif inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        schema = _model_schema(annotation)
    elif origin is typing.Literal:
        schema = {"enum": list(args)}
    elif annotation is bool:
        schema = {"type": "boolean"}
    elif annotation in (int, float):
        schema = {"type": "integer" if annotation is int else "number"}
        for m in metadata:
            for attr, key in (
                ("ge", "minimum"),
                ("le", "maximum"),
                ("gt", "exclusiveMinimum"),
                ("lt", "exclusiveMaximum"),
            ):
                if getattr(m, attr, None) is not None:
                    schema[key] = getattr(m, attr)
    elif annotation is str:
        schema = {"type": "string"}
    elif origin is list:
        schema = {"type": "array", "items": _field_schema(args[0], [])}
    elif origin is dict:
        schema = {"type": "object", "additionalProperties": _field_schema(args[1], [])}
    else:
        raise DocsError(f"no schema mapping for the settings annotation {annotation!r}; extend _field_schema")
    if optional:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _model_schema(model: Any, exclude: set[str] = frozenset()) -> dict[str, Any]:
    props = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key not in exclude:
            props[key] = _field_schema(field.annotation, field.metadata)
    return {"type": "object", "additionalProperties": False, "properties": props}


# `worker.config` also holds the queue contract the gateway shares: the chart writes those keys
# to runtime.yaml's `queue:` section (templates/_runtime.tpl), the rest to `worker:`.
SHARED_SECTIONS = {"worker": ("llmaz_serverless.queue.settings", "QueueSettings")}


def _tolerate(schema: dict[str, Any], keys: tuple[str, ...], new: str) -> None:
    """Let a renamed key through the schema, so that the chart's `movedKeys` check can name its new place
    (helm's schema error would only say "additional properties ... not allowed")."""
    node = schema
    for key in keys[:-1]:
        node = node["properties"][key]
    node["properties"][keys[-1]] = {"description": f"moved to {new}; the chart refuses it [values/moved-key]"}


def section_schema(component: str) -> dict[str, Any]:
    """Schema of `<component>.config`: the section model's keys minus the chart-owned ones."""
    import importlib

    from llmaz_serverless.values.messages import CONFIG_RENAMES

    module, cls, owned = SECTIONS[component]
    schema = _model_schema(getattr(importlib.import_module(module), cls), exclude=owned)
    for path, new in CONFIG_RENAMES.items():
        if path[0] == component:
            _tolerate(schema, path[2:], new)
    source = f"the {component}: section of runtime.yaml ({module}.{cls})"
    if component in SHARED_SECTIONS:
        shared_module, shared_cls = SHARED_SECTIONS[component]
        shared = _model_schema(getattr(importlib.import_module(shared_module), shared_cls), exclude=owned)
        schema["properties"] = dict(sorted({**schema["properties"], **shared["properties"]}.items()))
        source += f" and the queue: section ({shared_module}.{shared_cls})"
    schema["description"] = f"{source}; {', '.join(sorted(owned))} come from their own values"
    return schema


def schema_with_sections(schema_path: Path) -> str:
    """values.schema.json text with the component `config` schemas regenerated."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    for component in SECTIONS:
        schema["properties"][component]["properties"]["config"] = section_schema(component)
    return json.dumps(schema, indent=2) + "\n"


def charts() -> list[Path]:
    return sorted(p.parent for p in CHARTS.glob("*/Chart.yaml"))


def ensure_generator() -> Path:
    """The readme-generator binary, installed from the lock file when missing."""
    if GENERATOR.exists():
        return GENERATOR
    npm = shutil.which("npm")
    if npm is None:
        raise DocsError(
            "npm not found: install Node.js and npm (Debian: apt-get install npm), then run "
            "`npm ci` in the repository to get @bitnami/readme-generator-for-helm"
        )
    cmd = [npm, "ci" if (ROOT / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not GENERATOR.exists():
        raise DocsError(f"`{' '.join(cmd)}` failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return GENERATOR


def generate(chart: Path, readme: Path) -> None:
    """Rewrite the Parameters section of `readme` from `chart`/values.yaml."""
    if "## Parameters" not in readme.read_text(encoding="utf-8"):
        raise DocsError(f"{readme}: no '## Parameters' heading; add one where the tables belong")
    proc = subprocess.run(
        [str(ensure_generator()), "--values", str(chart / "values.yaml"), "--readme", str(readme)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        # The generator lists every undocumented key before failing; keep only those lines.
        errors = [line for line in proc.stdout.splitlines() if line.startswith("ERROR")]
        detail = "\n".join(errors) or (proc.stdout + proc.stderr)
        raise DocsError(
            f"{chart.name}/values.yaml: the README generator failed:\n{detail}\n"
            "fix: put a `## @param <key> <description>` comment above every key"
        )


def targets() -> list[tuple[Path, Path]]:
    """(chart, document) pairs whose Parameters section is generated: each chart's README,
    and the values reference in docs/design/api.md."""
    pairs = [(chart, chart / "README.md") for chart in charts()]
    pairs.append((CHARTS / "llmaz-serverless", ROOT / "docs" / "design" / "api.md"))
    return pairs


def stale_diff(chart: Path, readme: Path | None = None) -> str:
    """A unified diff between `readme` (default: the chart's README) and a freshly generated one
    ("" when current)."""
    readme = readme or chart / "README.md"
    if not readme.exists():
        return f"{readme}: missing\n"
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "README.md"
        shutil.copyfile(readme, fresh)
        generate(chart, fresh)
        old = readme.read_text(encoding="utf-8").splitlines(keepends=True)
        new = fresh.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, str(readme), f"{readme} (generated)"))


def stale_schema_diff() -> str:
    """A diff between values.schema.json and one with freshly derived config schemas ("" when current)."""
    path = CHARTS / "llmaz-serverless" / "values.schema.json"
    old = path.read_text(encoding="utf-8")
    new = schema_with_sections(path)
    return "".join(
        difflib.unified_diff(old.splitlines(True), new.splitlines(True), str(path), f"{path} (generated)")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a README differs from generated")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = {str(doc.relative_to(ROOT)): stale_diff(chart, doc) for chart, doc in targets()}
            stale["values.schema.json"] = stale_schema_diff()
            stale = {name: diff for name, diff in stale.items() if diff}
            for diff in stale.values():
                sys.stdout.write(diff)
            if stale:
                print(f"stale: {', '.join(stale)}; fix: run `make docs` and commit the result")
                return 1
            print(f"generated docs current: {', '.join(str(d.relative_to(ROOT)) for _, d in targets())}")
            return 0
        schema_path = CHARTS / "llmaz-serverless" / "values.schema.json"
        schema_path.write_text(schema_with_sections(schema_path), encoding="utf-8")
        print(f"generated the component config schemas in {schema_path.relative_to(ROOT)}")
        for chart, doc in targets():
            generate(chart, doc)
            print(f"generated {doc.relative_to(ROOT)}")
        return 0
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
