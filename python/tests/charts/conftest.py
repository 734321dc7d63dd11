"""Chart tests: the real helm renders the charts; every test here carries the `charts` marker."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# The helpers module beside the tests (pytest runs with --import-mode=importlib,
# which puts no test directory on sys.path).
sys.path.insert(0, str(HERE))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.charts)
