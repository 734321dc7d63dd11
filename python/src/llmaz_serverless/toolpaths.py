"""Where the project's files and external tools are.

helm and kubectl are looked up first in the project-local bin dir that
`make tools` fills (or `$LLMAZ_SERVERLESS_BIN_DIR`), then on PATH.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class ToolMissingError(RuntimeError):
    """A required external tool is not installed."""


def repo_root() -> Path:
    """The checkout this package runs from (python/src/llmaz_serverless -> repo)."""
    env = os.environ.get("LLMAZ_SERVERLESS_REPO")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3]


def charts_dir() -> Path:
    return repo_root() / "charts"


def chart_dir(name: str = "llmaz-serverless") -> Path:
    return charts_dir() / name


def find_tool(name: str) -> Path:
    """Path of `helm` or `kubectl`; raises ToolMissingError naming `make tools`."""
    bin_dir = Path(os.environ.get("LLMAZ_SERVERLESS_BIN_DIR", repo_root() / ".bin"))
    local = bin_dir / name
    if local.exists() and os.access(local, os.X_OK):
        return local
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolMissingError(
        f"{name} not found in {bin_dir} or on PATH; run `make tools` in the repository "
        f"to install the pinned {name} (no network needed beyond PyPI)."
    )
