"""The wheel built from python/ (what the image installs) holds no test support."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from llmaz_serverless.toolpaths import repo_root

pytestmark = pytest.mark.integration


def test_the_runtime_wheel_has_the_launcher_and_no_test_support(tmp_path: Path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: run `make venv` (it installs uv into .venv)")
    # The build backend comes from uv's cache, which `make venv` filled when it installed the package.
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(tmp_path), str(repo_root() / "python")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = tmp_path.glob("llmaz_serverless-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "llmaz_serverless/launcher.py" in names and "llmaz_serverless/cli/up.py" in names
    test_support = [
        n for n in names
        if n.startswith("llmaz_serverless_testing/") or "/e2e/" in n
        or n.rsplit("/", 1)[-1] in ("testing.py", "localserver.py", "threadserver.py")
    ]  # fmt: skip
    assert test_support == []
