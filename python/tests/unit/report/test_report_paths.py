"""Published reports name paths relative to where the run started, never this machine's absolute ones."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from llmaz_serverless.loadtest.metadata import command_line, shown_argv, shown_path, working_dir
from llmaz_serverless.report.document import relative_command
from llmaz_serverless.toolpaths import repo_root

# Absolute paths of a machine: this checkout, the home and temp directories, and the usual roots
# of a work tree on Linux and macOS.
BINARY = {".png", ".gz", ".zip"}
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|root|home|tmp|Users|var/folders|private/var)/")


def committed_report_files() -> list[Path]:
    root = repo_root()
    listed = subprocess.run(
        ["git", "ls-files", "docs/reports"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    return [root / name for name in listed if Path(name).suffix not in BINARY]


def test_reports_are_committed_so_the_check_below_has_something_to_check():
    assert any(p.name == "run.json" for p in committed_report_files())


@pytest.mark.parametrize(
    "path", committed_report_files(), ids=lambda p: str(p.relative_to(repo_root() / "docs" / "reports"))
)
def test_no_committed_report_names_an_absolute_path_of_this_machine(path: Path):
    text = path.read_text(errors="replace")
    for forbidden in {str(repo_root()), str(Path.home()), tempfile.gettempdir()}:
        assert f"{forbidden}/" not in text and f'"{forbidden}"' not in text, f"{path} names {forbidden}"
    assert MACHINE_PATH.findall(text) == [], f"{path} names an absolute path of a machine"


def test_a_path_under_the_working_directory_is_shown_relative_to_it(tmp_path: Path):
    assert shown_path(tmp_path / "runs" / "x" / "profile.json", base=tmp_path) == "runs/x/profile.json"
    assert shown_path(tmp_path, base=tmp_path) == "."


def test_a_path_outside_the_working_directory_is_left_as_it_is(tmp_path: Path):
    assert shown_path("/opt/elsewhere/file", base=tmp_path) == "/opt/elsewhere/file"


def test_a_path_under_the_home_directory_is_shown_from_tilde(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    kubeconfig = tmp_path / "home" / ".cache" / "cluster" / "kubeconfig"
    assert shown_path(kubeconfig, base=tmp_path / "repo") == "~/.cache/cluster/kubeconfig"


def test_absolute_arguments_of_a_command_become_relative_and_others_stay(monkeypatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    argv = ["-f", str(tmp_path / "scenario.py"), "--host", "http://127.0.0.1:8080", "--csv", "/opt/x"]
    assert shown_argv(argv) == ["-f", "scenario.py", "--host", "http://127.0.0.1:8080", "--csv", "/opt/x"]
    recorded = command_line(["/usr/bin/llmaz-serverless", "loadtest", "--out", str(tmp_path / "runs")])
    assert recorded.startswith("llmaz-serverless loadtest --out runs")


def test_the_working_directory_is_recorded_relative_to_the_repository(monkeypatch):
    monkeypatch.chdir(repo_root())
    assert working_dir() == "."
    monkeypatch.chdir(repo_root() / "python")
    assert working_dir() == "python"


def test_a_run_recorded_with_absolute_paths_is_shown_relative_to_its_cwd():
    meta = {
        "cwd": "/srv/checkout",
        "locust_command": "LLMAZ_LOADTEST_PROFILE=/srv/checkout/runs/a/profile.json locust -f "
        "/srv/checkout/loadtest/scenarios/00_mix.py --csv /srv/checkout/runs/a/locust",
    }
    assert relative_command(meta, "locust_command") == (
        "LLMAZ_LOADTEST_PROFILE=runs/a/profile.json locust "
        "-f loadtest/scenarios/00_mix.py --csv runs/a/locust"
    )
    assert relative_command({"cwd": ".", "command": "make loadtest"}, "command") == "make loadtest"
