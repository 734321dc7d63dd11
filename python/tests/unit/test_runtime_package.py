"""The runtime package ships the product only: test support lives in python/testing
(`llmaz_serverless_testing`), which no runtime module imports and the image never installs."""

from __future__ import annotations

import ast
import re

from llmaz_serverless.toolpaths import repo_root

ROOT = repo_root()
TESTING = "llmaz_serverless_testing"


def imported_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_imported_modules_finds_testing_imports_at_any_depth():
    source = "import os\ndef f():\n    from llmaz_serverless_testing.worker import Client\n"
    assert imported_modules(source) == {"os", "llmaz_serverless_testing.worker"}


def test_no_runtime_module_imports_the_testing_package():
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "python" / "src").rglob("*.py")
        for module in imported_modules(path.read_text(encoding="utf-8"))
        if module == TESTING or module.startswith(f"{TESTING}.")
    )
    assert offenders == [], "move the code the runtime needs into python/src: " + "; ".join(offenders)


def test_no_test_support_module_is_left_in_the_runtime_package():
    src = ROOT / "python" / "src" / "llmaz_serverless"
    left = sorted(
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if path.stem in {"testing", "localserver", "threadserver"} or "e2e" in path.relative_to(src).parts
    )
    assert left == [], f"test support belongs in python/testing/src/{TESTING}: {left}"


def test_the_image_copies_and_installs_the_runtime_package_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = [
        src for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.M) for src in line.split()[:-1]
    ]
    assert "python/src" in copied
    assert not [src for src in copied if src.startswith("python/testing") or src in ("python", "python/")]
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs and not [line for line in installs if "testing" in line]
