"""The stack chart's committed Chart.lock: in step with Chart.yaml, and accepted by the real helm."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from llmaz_serverless.toolpaths import find_tool, repo_root

STACK = repo_root() / "charts" / "llmaz-serverless-stack"
OUT_OF_SYNC = "out of sync with the dependencies file"


def load_chart_lock() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chart_lock", repo_root() / "scripts" / "chart_lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def helm(tmp_path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real helm with its cache and config in tmp_path (no repository is added, none is reachable)."""
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
        "HELM_DATA_HOME": str(tmp_path / "helm-data"),
    }
    return subprocess.run(
        [str(find_tool("helm")), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def copy_charts(tmp_path: Path) -> Path:
    """Both charts side by side, as the stack's file://../llmaz-serverless dependency expects."""
    for name in ("llmaz-serverless", "llmaz-serverless-stack"):
        shutil.copytree(repo_root() / "charts" / name, tmp_path / "charts" / name)
    return tmp_path / "charts" / "llmaz-serverless-stack"


def test_committed_lock_is_what_chart_yaml_determines():
    assert load_chart_lock().check(STACK) is None


def test_lock_lists_every_dependency_of_chart_yaml_at_its_version():
    deps = yaml.safe_load((STACK / "Chart.yaml").read_text())["dependencies"]
    lock = yaml.safe_load((STACK / "Chart.lock").read_text())
    assert [(d["name"], d["repository"], str(d["version"])) for d in lock["dependencies"]] == [
        (d["name"], d["repository"], str(d["version"])) for d in deps
    ]


def test_our_digest_equals_the_one_helm_writes_for_a_file_dependency(tmp_path: Path):
    """Calibration: `helm dependency update` works offline for file:// dependencies."""
    charts = copy_charts(tmp_path).parent
    parent = charts / "calibration"
    parent.mkdir()
    dep = {
        "name": "llmaz-serverless",
        "version": "0.1.0",
        "repository": "file://../llmaz-serverless",
        "condition": "llmaz-serverless.enabled",
        "tags": ["serving"],
        "alias": "serverless",
    }
    chart = {"apiVersion": "v2", "name": "calibration", "version": "0.1.0", "dependencies": [dep]}
    (parent / "Chart.yaml").write_text(yaml.safe_dump(chart))
    done = helm(tmp_path, "dependency", "update", ".", cwd=parent)
    assert done.returncode == 0, done.stderr
    written = yaml.safe_load((parent / "Chart.lock").read_text())
    assert written["digest"] == load_chart_lock().digest([dep])


def test_helm_dependency_build_accepts_the_committed_lock(tmp_path: Path):
    stack = copy_charts(tmp_path)
    done = helm(tmp_path, "dependency", "build", ".", cwd=stack)
    # With no repository reachable the build stops later, at fetching; the lock check comes first.
    assert OUT_OF_SYNC not in done.stderr, done.stderr
    assert "no repository definition" in done.stderr or done.returncode == 0, done.stderr


def test_helm_refuses_the_lock_once_chart_yaml_changes_and_the_writer_brings_it_back(tmp_path: Path):
    stack = copy_charts(tmp_path)
    chart_yaml = stack / "Chart.yaml"
    meta = yaml.safe_load(chart_yaml.read_text())
    meta["dependencies"][0]["version"] = "2.20.1"
    chart_yaml.write_text(yaml.safe_dump(meta, sort_keys=False))
    stale = helm(tmp_path, "dependency", "build", ".", cwd=stack)
    assert OUT_OF_SYNC in stale.stderr, stale.stderr
    chart_lock = load_chart_lock()
    assert chart_lock.check(stack) is not None
    assert chart_lock.write(stack) is True
    fixed = helm(tmp_path, "dependency", "build", ".", cwd=stack)
    assert OUT_OF_SYNC not in fixed.stderr, fixed.stderr


def test_a_version_range_is_refused_naming_the_field(tmp_path: Path):
    stack = copy_charts(tmp_path)
    meta = yaml.safe_load((stack / "Chart.yaml").read_text())
    meta["dependencies"][1]["version"] = "^0.15.0"
    (stack / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    with pytest.raises(SystemExit, match=r"dependencies\[1\]\.version is '\^0\.15\.0'"):
        load_chart_lock().check(stack)


# Helm 4.1.4's `lint` and `dependency list` read Chart.yaml and never the lock's digest (tried:
# a stale lock changes neither); `dependency build` above is the command that checks it.
def test_helm_lint_passes_with_the_lock_in_the_chart(tmp_path: Path):
    stack = copy_charts(tmp_path)
    done = helm(tmp_path, "lint", ".", cwd=stack)
    assert done.returncode == 0, done.stdout + done.stderr


def test_helm_dependency_list_shows_what_the_lock_pins(tmp_path: Path):
    stack = copy_charts(tmp_path)
    done = helm(tmp_path, "dependency", "list", ".", cwd=stack)
    assert done.returncode == 0, done.stderr
    listed = {tuple(line.split()[:3]) for line in done.stdout.splitlines()[1:] if line.strip()}
    lock = yaml.safe_load((STACK / "Chart.lock").read_text())
    assert listed == {(d["name"], d["version"], d["repository"]) for d in lock["dependencies"]}
