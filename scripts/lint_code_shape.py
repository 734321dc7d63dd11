#!/usr/bin/env python3
"""Code-shape lint of the Python package: every long function says why it is long.

A function (or method) of more than `--max-lines` lines (80 by default, signature to last line)
must carry a comment that starts with `# Long on purpose:` directly above its `def` (above its
decorators, if any) or as the first line of its body. The comment is for the reader: it says
why the function stays one piece (a linear script that reads best top to bottom, one state
machine, a table of checks), so that a long function is a decision, not an accident.

    python scripts/lint_code_shape.py [--max-lines N] [dir ...]   # default: python/src python/testing/src

Exit status 1 lists each long function without the comment as `path:line name (N lines)`.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = (REPO / "python" / "src", REPO / "python" / "testing" / "src")
MARKER = "# Long on purpose:"
MAX_LINES = 80


@dataclass(frozen=True)
class LongFunction:
    path: Path
    line: int
    name: str
    lines: int


def _has_marker(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    # Above the first decorator (or the def): the contiguous comment block right there.
    top = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1  # 0-based index of that line
    above = top - 1
    while above >= 0 and lines[above].strip().startswith("#"):
        if lines[above].strip().startswith(MARKER):
            return True
        above -= 1
    # Or between the signature and the first statement (after the docstring, if any).
    first = node.body[1] if ast.get_docstring(node) is not None and len(node.body) > 1 else node.body[0]
    return any(text.strip().startswith(MARKER) for text in lines[node.lineno - 1 : first.lineno - 1])


def long_functions(path: Path, max_lines: int = MAX_LINES) -> Iterator[LongFunction]:
    """Functions in one file longer than max_lines without the marker comment."""
    source = path.read_text()
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length > max_lines and not _has_marker(lines, node):
            yield LongFunction(path, node.lineno, node.name, length)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=[d for d in DEFAULT_DIRS if d.is_dir()])
    parser.add_argument("--max-lines", type=int, default=MAX_LINES)
    args = parser.parse_args(argv)
    found = [f for d in args.dirs for p in sorted(d.rglob("*.py")) for f in long_functions(p, args.max_lines)]
    for f in found:
        shown = f.path.relative_to(REPO) if f.path.is_relative_to(REPO) else f.path
        print(f"{shown}:{f.line} {f.name} ({f.lines} lines): add `{MARKER} <why>` above it, or split it")
    if found:
        return 1
    print(f"== code shape: every function over {args.max_lines} lines says why")
    return 0


if __name__ == "__main__":
    sys.exit(main())
