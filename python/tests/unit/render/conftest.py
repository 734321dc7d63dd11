"""Shared fixtures for the render tests: the hand-written sample manifest and a schema store."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from llmaz_serverless.render.documents import RenderedObject, split_manifest
from llmaz_serverless.render.schemas import SchemaStore

MANIFESTS = Path(__file__).parent / "manifests"


@pytest.fixture(scope="session")
def store() -> SchemaStore:
    return SchemaStore()


@pytest.fixture(scope="session")
def _good_objects() -> list[RenderedObject]:
    return split_manifest((MANIFESTS / "good-crds.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def good(_good_objects: list[RenderedObject]) -> dict[str, dict[str, Any]]:
    """kind -> a fresh deep copy of the valid sample body (tests mutate it)."""
    return {obj.kind: copy.deepcopy(obj.body) for obj in _good_objects}
