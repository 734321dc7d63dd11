#!/usr/bin/env python3
"""Write or check a chart's Chart.lock without reaching its chart repositories.

`helm dependency update` resolves every dependency over the network before it
writes Chart.lock, and no chart repository is reachable from our machines. Our
dependencies are exact versions, so the lock is fully determined by Chart.yaml;
what Helm also checks is the lock's `digest`: `helm dependency build` refuses a
lock whose digest differs from the one it computes ("the lock file (Chart.lock)
is out of sync with the dependencies file (Chart.yaml)").

Helm 4.1.4 computes that digest (internal/resolver HashReq) as the sha256 of
Go's json.Marshal of the pair [Chart.yaml's dependencies, the locked ones],
each dependency with the fields of its Go struct in declaration order and empty
optional fields left out. Checked against a lock `helm dependency update`
wrote for a file:// dependency; python/tests/unit/release/test_chart_lock.py
has the real helm accept ours.

    python scripts/chart_lock.py [--check] [chart-dir ...]   (default: every chart with dependencies)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Helm's chart Dependency struct: JSON names in field order, and which may be left out when empty.
DEPENDENCY_FIELDS = (
    ("name", False),
    ("version", True),
    ("repository", False),
    ("condition", True),
    ("tags", True),
    ("enabled", True),
    ("import-values", True),
    ("alias", True),
)


def go_json_dependency(dep: dict[str, Any]) -> dict[str, Any]:
    """A dependency as Go's json.Marshal writes Helm's struct: fixed order, empty omitempty fields dropped."""
    out: dict[str, Any] = {}
    for key, omitempty in DEPENDENCY_FIELDS:
        value = dep.get(key)
        if omitempty and not value:
            continue
        out[key] = value if value is not None else ""
    return out


def go_json(value: Any) -> bytes:
    """json.Marshal's bytes: compact, UTF-8, with <, > and & escaped as Go does for HTML safety."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def locked(dep: dict[str, Any]) -> dict[str, Any]:
    """What Helm locks for an exact version: name, repository and that version."""
    return {"name": dep["name"], "version": str(dep["version"]), "repository": dep.get("repository", "")}


def digest(dependencies: list[dict[str, Any]]) -> str:
    requested = [go_json_dependency({**d, "version": str(d.get("version", ""))}) for d in dependencies]
    lock = [go_json_dependency(locked(d)) for d in dependencies]
    return "sha256:" + hashlib.sha256(go_json([requested, lock])).hexdigest()


def expected_lock(chart: Path, generated: str) -> dict[str, Any]:
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    deps = meta.get("dependencies") or []
    for i, dep in enumerate(deps):
        version = str(dep.get("version", ""))
        if not version or any(c in version for c in "^~<>=*xX| "):
            raise SystemExit(
                f"{chart}/Chart.yaml: dependencies[{i}].version is {version!r}; this lock writer needs an "
                "exact version (a range is resolved only by `helm dependency update` with network)"
            )
    return {
        # Helm writes keys sorted and each dependency as name, repository, version.
        "dependencies": [
            {"name": d["name"], "repository": d.get("repository", ""), "version": str(d["version"])}
            for d in deps
        ],
        "digest": digest(deps),
        "generated": generated,
    }


def render(lock: dict[str, Any]) -> str:
    return yaml.safe_dump(lock, sort_keys=False, default_flow_style=False)


def shown(chart: Path) -> Path:
    """The chart's path as a command in the repository would name it."""
    return chart.relative_to(ROOT) if chart.is_relative_to(ROOT) else chart


def check(chart: Path) -> str | None:
    """None when chart/Chart.lock is what Chart.yaml determines; else what is wrong and the fix."""
    path = chart / "Chart.lock"
    if not path.exists():
        return f"{path} is missing: run `python scripts/chart_lock.py {shown(chart)}`"
    current = yaml.safe_load(path.read_text()) or {}
    want = expected_lock(chart, str(current.get("generated", "")))
    if current != want:
        return (
            f"{path} is out of step with Chart.yaml (digest {current.get('digest')}, expected "
            f"{want['digest']}): run `python scripts/chart_lock.py {shown(chart)}`"
        )
    return None


def write(chart: Path) -> bool:
    """Rewrite chart/Chart.lock when it is out of step; True when it changed."""
    if check(chart) is None:
        return False
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (chart / "Chart.lock").write_text(render(expected_lock(chart, now)))
    return True


def charts_with_dependencies() -> list[Path]:
    return [
        c.parent
        for c in sorted((ROOT / "charts").glob("*/Chart.yaml"))
        if (yaml.safe_load(c.read_text()) or {}).get("dependencies")
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report a missing or stale Chart.lock")
    ap.add_argument("charts", nargs="*", type=Path)
    a = ap.parse_args(argv)
    charts = [c.resolve() for c in a.charts] or charts_with_dependencies()
    problems = [p for c in charts if (p := check(c))] if a.check else []
    if not a.check:
        for chart in charts:
            print(f"chart-lock: {shown(chart)}/Chart.lock {'written' if write(chart) else 'current'}")
    for problem in problems:
        print(f"chart-lock: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
