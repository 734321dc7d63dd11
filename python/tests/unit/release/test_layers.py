"""The package layers are stated once in python/.importlinter; the drawing and mypy follow them.

docs/design/architecture.md draws the layers, and python/pyproject.toml holds the core and domain
packages to strict mypy (issue 23). Both are written by hand, so this test keeps them in step
with the contract `lint-imports` enforces.
"""

from __future__ import annotations

import configparser
import re
import tomllib

import pytest

from llmaz_serverless.toolpaths import repo_root

PYTHON = repo_root() / "python"


def _contract_layers() -> list[set[str]]:
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",))
    parser.read(PYTHON / ".importlinter")
    lines = [line.strip() for line in parser["importlinter:contract:layers"]["layers"].splitlines()]
    return [set(re.split(r"\s*[|:]\s*", line)) for line in lines if line]


def _drawn_layers() -> list[set[str]]:
    text = (repo_root() / "docs" / "design" / "architecture.md").read_text()
    section = text.split("## Python packages: layers", 1)[1].split("\n## ", 1)[0]
    drawing = section.split("```", 2)[1]
    known = set().union(*_contract_layers())
    layers = []
    for line in drawing.splitlines():
        # A layer's line is its names (with `|` between services), then prose: read up to the prose.
        names = []
        for word in line.replace("|", " ").split():
            if word not in known:
                break
            names.append(word)
        if names:
            layers.append(set(names))
    return layers


def test_architecture_md_draws_the_contract_s_layers_in_its_order() -> None:
    assert _drawn_layers() == _contract_layers()


def _strict_modules() -> set[str]:
    config = tomllib.loads((PYTHON / "pyproject.toml").read_text())
    strict = [o for o in config["tool"]["mypy"]["overrides"] if o.get("disallow_untyped_defs")]
    return {m for o in strict for m in o["module"]}


@pytest.mark.parametrize("layer", ["domain", "core"])
def test_core_and_domain_are_held_to_strict_mypy(layer: str) -> None:
    names = _contract_layers()[-2] if layer == "domain" else _contract_layers()[-1]
    strict = _strict_modules()
    missing = sorted(
        n for n in names if f"llmaz_serverless.{n}" not in strict and f"llmaz_serverless.{n}.*" not in strict
    )
    assert missing == [], f"add {missing} to the strict override in python/pyproject.toml"
