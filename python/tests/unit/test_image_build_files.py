"""The image build files, checked without Docker: what the Dockerfile copies is in the build
context, every runtime dependency is pinned by the lock it installs with, and every command the
chart and the e2e manifests start exists in the CLI the image's entrypoint runs."""

from __future__ import annotations

import fnmatch
import re
import tomllib

import pytest
import yaml

from llmaz_serverless.cli import build_parser
from llmaz_serverless.toolpaths import repo_root

ROOT = repo_root()


def context_includes(path: str) -> bool:
    """Docker's .dockerignore semantics for our file: later lines win, `!` re-includes."""
    included = True
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate, pattern = line.startswith("!"), line.lstrip("!").rstrip("/")
        if (
            fnmatch.fnmatch(path, pattern)
            or path.startswith(pattern + "/")
            or (pattern.startswith("**/") and fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern[3:]))
        ):
            included = negate
    return included


def test_everything_the_dockerfile_copies_is_in_the_build_context():
    copies = re.findall(r"^COPY (?!--from)(.+)$", (ROOT / "Dockerfile").read_text(), re.M)
    sources = [src for line in copies for src in line.split()[:-1]]
    assert sources, "the Dockerfile copies nothing from the context"
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"
        sample = next((ROOT / src).rglob("*.py"), None) if (ROOT / src).is_dir() else ROOT / src
        assert sample is not None
        assert context_includes(str(sample.relative_to(ROOT))), f"{sample} is excluded by .dockerignore"
    assert not context_includes(".venv/bin/python") and not context_includes(
        "charts/llmaz-serverless/values.yaml"
    )


def test_every_runtime_dependency_is_pinned_by_the_lock_the_image_installs_with():
    project = tomllib.loads((ROOT / "python" / "pyproject.toml").read_text())["project"]
    pinned = {
        m.group(1).lower().replace("_", "-")
        for m in re.finditer(
            r"^([A-Za-z0-9_.-]+)==", (ROOT / "python" / "requirements.lock").read_text(), re.M
        )
    }
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pinned, f"{name} is a runtime dependency but requirements.lock does not pin it"


def commands_started() -> list[list[str]]:
    found: list[list[str]] = []
    for path in [*(ROOT / "manifests").rglob("*.yaml")]:
        for doc in yaml.safe_load_all(path.read_text()):
            text = yaml.safe_dump(doc or {})
            for block in re.findall(r"- llmaz-serverless\n((?:\s*- [^\n]+\n)+)", text):
                found.append([item.strip()[2:] for item in block.strip().splitlines()])
    for template in (ROOT / "charts" / "llmaz-serverless" / "templates").rglob("*.yaml"):
        for block in re.findall(r"- llmaz-serverless\n((?:[ \t]*- [^\n]+\n)+)", template.read_text()):
            # Values the template fills in ({{ ... }}) stand for any path.
            items = [re.sub(r"\{\{.*?\}\}", "/rendered", item.strip()[2:]) for item in block.splitlines()]
            found.append([item.strip('"') for item in items])
    return found


@pytest.mark.parametrize("argv", commands_started(), ids=lambda a: " ".join(a))
def test_every_command_the_chart_and_manifests_start_exists(argv):
    # parse_known_args: flags whose values the templates fill in are not part of argv here.
    try:
        args, _ = build_parser().parse_known_args(argv)
    except SystemExit as exit_:
        pytest.fail(f"`llmaz-serverless {' '.join(argv)}` is not a valid command line ({exit_})")
    assert getattr(args, "func", None) is not None, f"`llmaz-serverless {' '.join(argv)}` runs nothing"
