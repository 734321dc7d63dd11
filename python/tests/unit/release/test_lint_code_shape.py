"""scripts/lint_code_shape.py: a function over the limit needs `# Long on purpose:`, nothing else does."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from llmaz_serverless.toolpaths import repo_root


@pytest.fixture(scope="module")
def shape() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "lint_code_shape", repo_root() / "scripts" / "lint_code_shape.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _function(name: str, body_lines: int, above: str = "", first: str = "", decorated: bool = False) -> str:
    head = "@staticmethod\n" if decorated else ""
    body = "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    return f'{above}{head}def {name}():\n    """Doc."""\n{first}{body}\n'


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        (_function("short", 10), []),
        (_function("exactly_at_the_limit", 8), []),
        (_function("long", 20), ["long"]),
        (_function("explained", 20, above="# Long on purpose: one linear script.\n"), []),
        (_function("explained_in_body", 20, first="    # Long on purpose: a table of checks.\n"), []),
        (_function("decorated", 20, above="# Long on purpose: why.\n", decorated=True), []),
        # Any other comment is not the answer the rule asks for.
        (_function("other_comment", 20, above="# Does many things.\n"), ["other_comment"]),
        # A marker above an earlier, separate function does not cover the next one.
        (_function("a", 1, above="# Long on purpose: a.\n") + _function("b", 20), ["b"]),
    ],
)
def test_long_functions(shape: ModuleType, tmp_path: Path, source: str, flagged: list[str]) -> None:
    path = tmp_path / "mod.py"
    path.write_text(source)
    assert [f.name for f in shape.long_functions(path, max_lines=12)] == flagged


def test_main_fails_with_the_place_and_the_fix(shape: ModuleType, tmp_path: Path, capsys) -> None:
    (tmp_path / "mod.py").write_text(_function("long", 20))
    assert shape.main([str(tmp_path), "--max-lines", "12"]) == 1
    out = capsys.readouterr().out
    assert "mod.py:1 long (22 lines)" in out and "# Long on purpose:" in out
    (tmp_path / "mod.py").write_text(_function("long", 20, above="# Long on purpose: because.\n"))
    assert shape.main([str(tmp_path), "--max-lines", "12"]) == 0
