#!/usr/bin/env python3
"""Chart-testing-style lint of every chart under charts/ (what `ct lint` checks).

ct itself is a Go binary we cannot install here, so this script does its
checks with the real helm from .bin (see scripts/install_tools.py):

1. Chart.yaml against ct's chart schema: apiVersion v2, name equal to the
   directory, SemVer 2 version, description, maintainers with names,
   dependencies with name/version/repository.
2. yamllint on Chart.yaml, values*.yaml and ci/*.yaml with ct's default rules.
3. `helm lint --strict` with the default values, every ci/*-values.yaml and
   every values-*.yaml preset.
4. The README's Parameters tables, and the schemas of the components' `config`
   maps, are current (scripts/gen_chart_docs.py --check).

Charts with dependencies are linted from a temporary copy whose charts/ holds
`file://` dependencies packaged from the repository, remote ones already
fetched by `helm dependency build` when present, and otherwise an empty
placeholder chart of the declared name and version (printed as such): the
remote repositories are not reachable from CI, and their conditions are off
in our ci/ files, so nothing of theirs is rendered either way.

    python scripts/lint_charts.py [chart-dir ...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHARTS = ROOT / "charts"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_chart_docs  # noqa: E402  (sibling script)

# SemVer 2.0.0, as ct requires for chart versions.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)

# ct's default yamllint rules (chart-testing etc/lintconf.yaml), restated.
YAMLLINT_CONFIG = """
rules:
  braces:
    {min-spaces-inside: 0, max-spaces-inside: 1, min-spaces-inside-empty: -1, max-spaces-inside-empty: -1}
  brackets:
    {min-spaces-inside: 0, max-spaces-inside: 0, min-spaces-inside-empty: -1, max-spaces-inside-empty: -1}
  colons: {max-spaces-before: 0, max-spaces-after: 1}
  commas: {max-spaces-before: 0, min-spaces-after: 1, max-spaces-after: 1}
  comments: {require-starting-space: true, min-spaces-from-content: 1}
  document-end: disable
  document-start: disable
  empty-lines: {max: 2, max-start: 0, max-end: 0}
  hyphens: {max-spaces-after: 1}
  indentation: {spaces: consistent, indent-sequences: whatever, check-multi-line-strings: false}
  key-duplicates: enable
  line-length: disable
  new-line-at-end-of-file: enable
  new-lines: {type: unix}
  trailing-spaces: enable
  truthy: {allowed-values: ['true', 'false'], check-keys: false}
"""

CHART_KEYS = {
    "apiVersion", "name", "version", "kubeVersion", "description", "type", "keywords", "home",
    "sources", "dependencies", "maintainers", "icon", "appVersion", "deprecated", "annotations",
}  # fmt: skip


def helm() -> str:
    bin_dir = Path(os.environ.get("LLMAZ_SERVERLESS_BIN_DIR", ROOT / ".bin"))
    local = bin_dir / "helm"
    if local.exists():
        return str(local)
    found = shutil.which("helm")
    if found:
        return found
    sys.exit("helm not found in .bin or on PATH; run `make tools`")


def check_chart_yaml(chart: Path) -> list[str]:
    """ct's chart schema checks on Chart.yaml; one message per problem."""
    where = f"{chart.name}/Chart.yaml"
    meta = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8")) or {}
    problems = []
    for key in sorted(set(meta) - CHART_KEYS):
        problems.append(f"{where}: unknown key {key!r}; fix: remove it or move it under annotations")
    if meta.get("apiVersion") != "v2":
        problems.append(f"{where}: apiVersion must be v2 (got {meta.get('apiVersion')!r})")
    if meta.get("name") != chart.name:
        problems.append(f"{where}: name {meta.get('name')!r} differs from the directory {chart.name!r}")
    if not SEMVER.match(str(meta.get("version", ""))):
        problems.append(f"{where}: version {meta.get('version')!r} is not SemVer 2 (e.g. 0.1.0)")
    if not str(meta.get("description", "")).strip():
        problems.append(f"{where}: description is missing")
    if meta.get("type", "application") not in ("application", "library"):
        problems.append(f"{where}: type must be application or library (got {meta.get('type')!r})")
    for i, maintainer in enumerate(meta.get("maintainers") or []):
        if not isinstance(maintainer, dict) or not maintainer.get("name"):
            problems.append(f"{where}: maintainers[{i}] has no name")
    for i, dep in enumerate(meta.get("dependencies") or []):
        for key in ("name", "version", "repository"):
            if not dep.get(key):
                problems.append(f"{where}: dependencies[{i}] has no {key}")
    return problems


def yaml_files(chart: Path) -> list[Path]:
    files = [chart / "Chart.yaml", *sorted(chart.glob("values*.yaml")), *sorted(chart.glob("ci/*.yaml"))]
    return [f for f in files if f.exists()]


def run_yamllint(files: list[Path]) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "yamllint", "-f", "parsable", "-d", YAMLLINT_CONFIG, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        return [f"yamllint failed to run ({proc.returncode}): {proc.stderr.strip()}"]
    return [line for line in proc.stdout.splitlines() if line.strip()]


def _placeholder_chart(dest: Path, name: str, version: str) -> None:
    """An empty chart standing in for a remote dependency that cannot be fetched."""
    path = dest / name
    path.mkdir(parents=True)
    (path / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: {name}\nversion: {version}\n"
        "description: placeholder for a dependency not fetched (run helm dependency build)\n",
        encoding="utf-8",
    )


@contextmanager
def assembled(chart: Path, log: bool = True) -> Iterator[Path]:
    """The chart itself, or a temporary copy with its dependencies in charts/ (see the module doc)."""
    meta = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8")) or {}
    deps = meta.get("dependencies") or []
    if not deps:
        yield chart
        return
    with tempfile.TemporaryDirectory(prefix=f"{chart.name}-") as tmp:
        copy = Path(tmp) / chart.name
        shutil.copytree(chart, copy, ignore=shutil.ignore_patterns("charts"))
        sub = copy / "charts"
        sub.mkdir()
        for dep in deps:
            name, version, repo = dep["name"], str(dep["version"]), dep["repository"]
            if repo.startswith("file://"):
                src = (chart / repo[len("file://") :]).resolve()
                subprocess.run(
                    [helm(), "package", str(src), "-d", str(sub)], check=True, capture_output=True, text=True
                )
                continue
            fetched = chart / "charts" / f"{name}-{version}.tgz"
            if fetched.exists():
                shutil.copy(fetched, sub)
                continue
            _placeholder_chart(sub, name, version)
            if log:
                print(f"  {chart.name}: {name} {version} not fetched ({repo}); linted with a placeholder")
        yield copy


def helm_lint(chart: Path) -> list[str]:
    """`helm lint --strict` with the default values, every ci/*-values.yaml and every preset."""
    problems = []
    value_sets: list[list[str]] = [[]]
    value_sets += [["-f", str(f)] for f in sorted(chart.glob("ci/*-values.yaml"))]
    value_sets += [["-f", str(f)] for f in sorted(chart.glob("values-*.yaml"))]
    with assembled(chart) as target:
        for extra in value_sets:
            label = Path(extra[1]).relative_to(chart) if extra else "defaults"
            proc = subprocess.run(
                [helm(), "lint", "--strict", str(target), *extra], capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                detail = (proc.stdout + proc.stderr).strip()
                problems.append(f"{chart.name} ({label}): helm lint --strict failed:\n{detail}")
            else:
                print(f"  {chart.name}: helm lint --strict ok ({label})")
    return problems


def lint(chart: Path) -> list[str]:
    print(f"{chart.relative_to(ROOT)}")
    problems = check_chart_yaml(chart)
    problems += run_yamllint(yaml_files(chart))
    problems += helm_lint(chart)
    for owner, doc in gen_chart_docs.targets():
        if owner != chart:
            continue
        try:
            diff = gen_chart_docs.stale_diff(chart, doc)
        except gen_chart_docs.DocsError as exc:
            problems.append(str(exc))
        else:
            if diff:
                problems.append(f"{doc.relative_to(ROOT)} is stale; fix: run `make docs` and commit\n{diff}")
    if (chart / "values.schema.json").exists() and chart.name == "llmaz-serverless":
        try:
            diff = gen_chart_docs.stale_schema_diff()
        except (gen_chart_docs.DocsError, ImportError) as exc:
            problems.append(f"{chart.name}/values.schema.json: config schemas not derivable: {exc}")
        else:
            if diff:
                problems.append(
                    f"{chart.name}/values.schema.json: config schemas are stale; fix: run `make docs`\n{diff}"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("charts", nargs="*", type=Path, help="chart directories (default: every chart)")
    args = parser.parse_args(argv)
    targets = [c.resolve() for c in args.charts] or gen_chart_docs.charts()
    problems = [p for chart in targets for p in lint(chart)]
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"{len(targets)} chart(s) linted, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
