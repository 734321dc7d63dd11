#!/usr/bin/env python3
"""Read the project's pins (versions.toml at the repository's root) for make and CI.

    python3 scripts/pins.py get charts.keda.version   one value, by its dotted key
    python3 scripts/pins.py make                      the Makefile's version variables

Standard library only: make runs this before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

VERSIONS_FILE = Path(__file__).resolve().parents[1] / "versions.toml"
# Makefile variable -> dotted key in versions.toml.
MAKE_VARIABLES = {
    "KEDA_VERSION": "charts.keda.version",
    "HTTP_ADDON_VERSION": "charts.keda-add-ons-http.version",
    "LLMAZ_CHART_VERSION": "charts.llmaz.version",
    "HELM_VERSION": "tools.helm",
    "KUBECTL_VERSION": "tools.kubectl",
    "ACTIONLINT_MODULE": "tools.actionlint.module",
    "ACTIONLINT_VERSION": "tools.actionlint.version",
}


def load(path: Path = VERSIONS_FILE) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def get(pins: dict[str, Any], key: str) -> str:
    """The value at a dotted key; a missing key names the key and the tables there are."""
    node: Any = pins
    seen: list[str] = []
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            where = ".".join(seen) or "the top level"
            choices = ", ".join(node) if isinstance(node, dict) else "none (a value)"
            raise SystemExit(f"pins: {key!r} is not in {VERSIONS_FILE.name}: {where} has {choices}")
        node = node[part]
        seen.append(part)
    if isinstance(node, dict):
        raise SystemExit(f"pins: {key!r} is a table, not a value: name one of {', '.join(node)}")
    return str(node)


def make_variables(pins: dict[str, Any]) -> str:
    return "".join(f"{var} := {get(pins, key)}\n" for var, key in MAKE_VARIABLES.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("make", help="print the Makefile's version variables")
    one = sub.add_parser("get", help="print one value")
    one.add_argument("key", help="dotted key, e.g. tools.helm or charts.keda.version")
    a = ap.parse_args(argv)
    pins = load()
    sys.stdout.write(make_variables(pins) if a.command == "make" else get(pins, a.key) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
