#!/usr/bin/env python3
"""Check a release tag against every version the release publishes; print the version.

    python3 scripts/release_version.py v0.1.0

The release workflow (.github/workflows/release.yaml) runs this first: the tag `vX.Y.Z` must
equal both charts' `version` and `appVersion`, the stack chart's dependency on
llmaz-serverless, and the Python package's version (python/pyproject.toml), so the chart, the
image and the package of one release carry one number. Each mismatch is named with its file
and the fix; the exit status is 1 when there is any.

Standard library only (Chart.yaml is read for these top-level keys and the dependency list,
which our charts write one `key: value` a line): it runs before any virtualenv exists.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHART = "charts/llmaz-serverless/Chart.yaml"
STACK = "charts/llmaz-serverless-stack/Chart.yaml"
PYPROJECT = "python/pyproject.toml"
# SemVer 2 with an optional pre-release, as Helm and PEP 440 both accept it (v0.2.0, v0.2.0-rc.1).
TAG = re.compile(r"^v(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$")


def _scalar(raw: str) -> str:
    return raw.split(" #")[0].strip().strip("\"'")


def chart_fields(text: str) -> dict[str, str]:
    """Top-level scalars of a Chart.yaml (`version`, `appVersion`, ...)."""
    return {
        m["key"]: _scalar(m["value"])
        for m in re.finditer(r"^(?P<key>\w+):[ \t]*(?P<value>\S.*)$", text, re.M)
    }


def chart_dependencies(text: str) -> list[dict[str, str]]:
    """The `dependencies:` list of a Chart.yaml, each item's `key: value` lines."""
    deps: list[dict[str, str]] = []
    inside = False
    for line in text.splitlines():
        if re.match(r"^\S", line):
            inside = line.startswith("dependencies:")
            continue
        item = re.match(r"^\s*(?P<dash>-\s+)?(?P<key>[\w.-]+):\s*(?P<value>.*)$", line)
        if not inside or not item:
            continue
        if item["dash"]:
            deps.append({})
        if deps:
            deps[-1][item["key"]] = _scalar(item["value"])
    return deps


def found_versions(root: Path = ROOT) -> dict[str, str]:
    """Where each published version is written -> the version written there."""
    chart = chart_fields((root / CHART).read_text())
    stack_text = (root / STACK).read_text()
    stack = chart_fields(stack_text)
    ours = [d for d in chart_dependencies(stack_text) if d.get("name") == "llmaz-serverless"]
    package = tomllib.loads((root / PYPROJECT).read_text())["project"]["version"]
    return {
        f"{CHART} version": chart.get("version", ""),
        f"{CHART} appVersion": chart.get("appVersion", ""),
        f"{STACK} version": stack.get("version", ""),
        f"{STACK} appVersion": stack.get("appVersion", ""),
        f"{STACK} dependencies[llmaz-serverless].version": ours[0].get("version", "") if ours else "",
        f"{PYPROJECT} [project] version": str(package),
    }


def problems(tag: str, root: Path = ROOT) -> tuple[str, list[str]]:
    """The version the tag names, and every place that disagrees with it (empty when all agree)."""
    match = TAG.match(tag)
    if not match:
        return "", [f"tag {tag!r} is not a release tag; fix: tag as v<major>.<minor>.<patch>, e.g. v0.2.0"]
    version = match["version"]
    wrong = [
        f"{where} is {found or 'missing'!r}, the tag {tag} says {version!r}; fix: set it to {version}"
        + (", then rewrite the Chart.lock: python scripts/chart_lock.py" if "dependencies[" in where else "")
        for where, found in found_versions(root).items()
        if found != version
    ]
    return version, wrong


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    version, wrong = problems(args[0])
    for problem in wrong:
        print(f"release-version: {problem}", file=sys.stderr)
    if wrong:
        return 1
    print(version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
