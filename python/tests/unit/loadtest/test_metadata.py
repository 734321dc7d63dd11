from __future__ import annotations

import pytest

from llmaz_serverless.loadtest.metadata import command_line, machine, versions


def test_module_runs_are_written_as_python_dash_m_when_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAKELEVEL", raising=False)
    argv = ["/x/llmaz_serverless/__main__.py", "loadtest", "--shape-param", "idle=360", "--header", "A: b c"]
    assert (
        command_line(argv) == "python -m llmaz_serverless loadtest --shape-param idle=360 --header 'A: b c'"
    )
    assert command_line(["/usr/bin/llmaz-serverless", "report", "runs/x"]) == "llmaz-serverless report runs/x"


def test_make_is_noted_when_make_ran_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAKELEVEL", "1")
    assert command_line(["llmaz-serverless", "loadtest"]).endswith("# run by make (e.g. `make loadtest`)")


def test_machine_and_versions_name_what_shapes_the_numbers_when_collected() -> None:
    text = machine()
    assert "cores" in text and "Python" in text
    found = versions()
    assert found["locust"] != "not installed"
    assert found["git commit"] != ""
