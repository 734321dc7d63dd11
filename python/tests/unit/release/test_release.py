"""The release: one version from the tag, what the workflows publish, and the README install that uses it."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from llmaz_serverless.toolpaths import repo_root

ROOT = repo_root()
WORKFLOWS = ROOT / ".github" / "workflows"


def load_release_version() -> ModuleType:
    name = "_release_test_release_version"
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "release_version.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def workflow(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def chart(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "charts" / name / "Chart.yaml").read_text())


def owner() -> str:
    """The GitHub owner the charts name as their home, lowercased as OCI references need."""
    match = re.match(r"https://github\.com/([^/]+)/", chart("llmaz-serverless")["home"])
    assert match
    return match.group(1).lower()


def copy_release_files(tmp_path: Path) -> Path:
    rv = load_release_version()
    for relative in (rv.CHART, rv.STACK, rv.PYPROJECT):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    return tmp_path


def test_the_tag_of_the_current_versions_passes_and_names_the_version():
    version = chart("llmaz-serverless")["version"]
    assert load_release_version().problems(f"v{version}") == (version, [])


def test_the_version_check_reads_what_the_yaml_parser_reads():
    found = load_release_version().found_versions()
    stack = chart("llmaz-serverless-stack")
    ours = next(d for d in stack["dependencies"] if d["name"] == "llmaz-serverless")
    package = tomllib.loads((ROOT / "python" / "pyproject.toml").read_text())["project"]["version"]
    assert sorted(found.values()) == sorted(
        [
            str(chart("llmaz-serverless")["version"]),
            str(chart("llmaz-serverless")["appVersion"]),
            str(stack["version"]),
            str(stack["appVersion"]),
            str(ours["version"]),
            package,
        ]
    )


def test_a_package_version_that_differs_from_the_tag_is_named_with_its_file_and_fix(tmp_path: Path):
    root = copy_release_files(tmp_path)
    pyproject = root / "python" / "pyproject.toml"
    version = chart("llmaz-serverless")["version"]
    pyproject.write_text(pyproject.read_text().replace(f'version = "{version}"', 'version = "9.9.9"', 1))
    _, wrong = load_release_version().problems(f"v{version}", root)
    assert wrong == [
        f"python/pyproject.toml [project] version is '9.9.9', the tag v{version} says '{version}'; "
        f"fix: set it to {version}"
    ]


def test_a_tag_ahead_of_every_file_lists_all_six_places():
    _, wrong = load_release_version().problems("v99.0.0")
    assert len(wrong) == 6
    assert any("dependencies[llmaz-serverless].version" in w and "chart_lock.py" in w for w in wrong)


@pytest.mark.parametrize("tag", ["0.1.0", "v0.1", "release-1", "v0.1.0+build"])
def test_what_is_not_a_release_tag_is_refused_with_the_form_to_use(tag: str):
    assert load_release_version().problems(tag) == (
        "",
        [f"tag {tag!r} is not a release tag; fix: tag as v<major>.<minor>.<patch>, e.g. v0.2.0"],
    )


def test_the_release_runs_on_tags_and_checks_the_version_first():
    release = workflow("release.yaml")
    assert release[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads `on` as True
    check = release["jobs"]["version"]["steps"][-1]["run"]
    assert 'scripts/release_version.py "$TAG"' in check
    for job in ("charts", "image"):
        assert release["jobs"][job]["needs"] == "version"


def test_the_release_packages_and_pushes_both_charts_with_the_pinned_helm():
    steps = workflow("release.yaml")["jobs"]["charts"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "make tools" in runs and "setup-helm" not in str(steps)
    assert "helm package charts/llmaz-serverless -d dist" in runs
    assert "helm package charts/llmaz-serverless-stack -d dist" in runs
    assert 'helm push "$chart" "oci://ghcr.io/$OWNER/charts"' in runs
    assert "helm repo index site" in runs


def test_the_image_is_multi_arch_with_provenance_sbom_and_an_attestation():
    steps = workflow("release.yaml")["jobs"]["image"]["steps"]
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action"))["with"]
    assert build["platforms"].split(",") == ["linux/amd64", "linux/arm64"]
    assert build["push"] is True and build["provenance"] == "mode=max" and build["sbom"] is True
    assert any(s.get("uses", "").startswith("actions/attest-build-provenance") for s in steps)


def test_the_readme_installs_what_the_release_publishes():
    readme = (ROOT / "README.md").read_text()
    image_env = workflow("release.yaml")["jobs"]["image"]["env"]["IMAGE"]
    assert image_env == "ghcr.io/${{ needs.version.outputs.owner }}/llmaz-serverless"
    for name in ("llmaz-serverless-stack", "llmaz-serverless"):
        ref = f"oci://ghcr.io/{owner()}/charts/{name} --version {chart(name)['version']}"
        assert ref in readme, f"README should install {ref}"
    assert f"image.registry=ghcr.io,image.repository={owner()}/llmaz-serverless" in readme


def test_ci_uses_the_pinned_tools_and_no_action_that_brings_its_own_helm():
    ci = (WORKFLOWS / "ci.yaml").read_text()
    assert "azure/setup-helm" not in ci
    assert "make tools" in ci and 'CI: "true"' in ci
    assert "python3 scripts/pins.py get tools.kubectl" in ci
    assert not re.search(r"\bv?\d+\.\d+\.\d+\b", ci.replace("@v2.7.0", "")), (
        "versions come from versions.toml"
    )


def test_ct_adds_exactly_the_repositories_versions_toml_pins():
    ct = yaml.safe_load((ROOT / "ct.yaml").read_text())
    pins = tomllib.loads((ROOT / "versions.toml").read_text())["charts"]
    assert {r.split("=", 1)[1] for r in ct["chart-repos"]} == {c["repository"] for c in pins.values()}
