#!/usr/bin/env python3
"""Regenerate (or check) the Parameters tables of every chart README.

Each chart's README.md is written by hand except its `## Parameters`
section, which bitnami's readme-generator-for-helm builds from the
`## @section` / `## @param` comments in values.yaml. The generator comes from
npm (package.json / package-lock.json at the repository root, installed into
./node_modules on first use). It refuses values files with an undocumented
key, so a key without a comment fails here too.

    python scripts/gen_chart_docs.py            # rewrite the READMEs (make docs)
    python scripts/gen_chart_docs.py --check    # exit 1 when a README is stale (CI)
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHARTS = ROOT / "charts"
GENERATOR = ROOT / "node_modules" / ".bin" / "readme-generator"


class DocsError(RuntimeError):
    """A README could not be generated; the message says why and what to do."""


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


def stale_diff(chart: Path) -> str:
    """A unified diff between the chart's README and a freshly generated one ("" when current)."""
    readme = chart / "README.md"
    if not readme.exists():
        return f"{readme}: missing\n"
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "README.md"
        shutil.copyfile(readme, fresh)
        generate(chart, fresh)
        old = readme.read_text(encoding="utf-8").splitlines(keepends=True)
        new = fresh.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, str(readme), f"{readme} (generated)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a README differs from generated")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = {chart.name: stale_diff(chart) for chart in charts()}
            stale = {name: diff for name, diff in stale.items() if diff}
            for diff in stale.values():
                sys.stdout.write(diff)
            if stale:
                print(f"stale README(s): {', '.join(stale)}; fix: run `make docs` and commit the result")
                return 1
            print(f"READMEs current: {', '.join(c.name for c in charts())}")
            return 0
        for chart in charts():
            generate(chart, chart / "README.md")
            print(f"generated {chart.relative_to(ROOT)}/README.md")
        return 0
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
