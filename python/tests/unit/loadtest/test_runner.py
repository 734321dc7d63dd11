from __future__ import annotations

import io
from pathlib import Path

import pytest

from llmaz_serverless.loadtest.records import REQUEST_COLUMNS, CsvAppender, RequestRecord, append_request
from llmaz_serverless.loadtest.replicas import PrometheusSource, StateUrlSource
from llmaz_serverless.loadtest.runner import Progress, RunOptions, _sources, new_run_dir


def test_progress_counts_complete_rows_only_when_the_csv_is_being_appended(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    out = CsvAppender(path, REQUEST_COLUMNS)
    append_request(out, RequestRecord("a", "chat", "m", True, 1.0, total_s=0.5, outcome="ok"))
    append_request(out, RequestRecord("b", "chat", "m", True, 1.0, total_s=0.1, error="http_503"))
    stream = io.StringIO()
    progress = Progress(path, total=60, stream=stream)
    with open(path, "a") as fh:  # a row cut in the middle, as a reader may see it
        fh.write("c,chat,m,1,2.0")
        fh.flush()
        progress.tick(elapsed=5, users=3, replicas="1 (ready 1)")
        assert (progress.requests, progress.errors) == (2, 1)
        fh.write(",0.1,0.2,0.3,200,ok,,,8,8,,8,,\n")
    progress.tick(elapsed=10, users=3, replicas="1")
    assert (progress.requests, progress.errors) == (3, 1)
    line = stream.getvalue().splitlines()[0]
    assert "[    5s/60s] users   3  requests 2 (errors 1)" in line
    assert "replicas 1 (ready 1)" in line


def test_local_runs_sample_the_stack_state_when_replicas_from_is_auto() -> None:
    class Stack:
        state_url = "http://127.0.0.1:1/local-scaler/state"
        state_description = "the local scaler simulation's state (not KEDA)"

    sources, text = _sources(RunOptions(), "m", Stack())  # type: ignore[arg-type]
    assert isinstance(sources[0], StateUrlSource) and "not KEDA" in text


def test_remote_runs_prefer_prometheus_then_state_when_urls_are_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")
    monkeypatch.setenv("HOME", "/nonexistent")
    opts = RunOptions(target="http://gw", prometheus_url="http://prom:9090", playground="pg", namespace="ns")
    sources, text = _sources(opts, "m", None)
    assert isinstance(sources[0], PrometheusSource)
    assert 'statefulset="pg"' in text and 'namespace="ns"' in text
    sources, text = _sources(RunOptions(target="http://gw", state_url="http://x/state"), "m", None)
    assert isinstance(sources[0], StateUrlSource)
    sources, text = _sources(RunOptions(target="http://gw"), "m", None)
    assert sources == [] and text.startswith("none")


def test_explicit_source_without_its_url_is_refused_when_chosen() -> None:
    with pytest.raises(ValueError, match="--prometheus-url"):
        _sources(RunOptions(target="http://gw", replicas_from="prometheus"), "m", None)


def test_run_dir_is_never_reused_when_it_already_holds_a_run(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path, "01_steady", "x")
    (first / "requests.csv").write_text("")
    with pytest.raises(FileExistsError, match="already holds a run"):
        new_run_dir(tmp_path, "01_steady", "x")
