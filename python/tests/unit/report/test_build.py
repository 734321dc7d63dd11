"""Report generation on a small hand-made run whose every number is known in advance."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from llmaz_serverless.loadtest.records import (
    REPLICA_COLUMNS,
    REPLICAS_CSV,
    REQUEST_COLUMNS,
    REQUESTS_CSV,
    RUN_JSON,
    CsvAppender,
    RequestRecord,
    append_request,
)
from llmaz_serverless.report.build import write_report
from llmaz_serverless.report.plots import PLOTS
from llmaz_serverless.report.rundata import RunDirError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T0 = 1_800_000_000.0


def _write_run(run_dir: Path, records: list[RequestRecord], samples: list[tuple[float, int, int]]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    out = CsvAppender(run_dir / REQUESTS_CSV, REQUEST_COLUMNS)
    for r in records:
        append_request(out, r)
    out.close()
    if samples:
        rep = CsvAppender(run_dir / REPLICAS_CSV, REPLICA_COLUMNS)
        for t, replicas, ready in samples:
            rep.append(
                {"time": T0 + t, "model": "m", "replicas": replicas, "ready": ready, "source": "state"}
            )
        rep.close()
    meta = {
        "run_id": run_dir.name, "scenario": "unit", "mode": "local", "target": "http://127.0.0.1:1",
        "started_at": T0, "ended_at": T0 + 100, "command": "llmaz-serverless loadtest --local --out runs",
        "versions": {"llmaz-serverless": "test"}, "where": {"machine": "test machine"},
    }  # fmt: skip
    (run_dir / RUN_JSON).write_text(json.dumps(meta))
    return run_dir


def _req(rid: str, start: float, **kw: object) -> RequestRecord:
    return RequestRecord(rid, "chat", "m", True, T0 + start, **kw)  # type: ignore[arg-type]


KNOWN_RECORDS = [
    # Sent at zero replicas: waits 4.5 s for the scale-up.
    _req("r1", 9, ttfb_s=4.5, ttft_s=4.6, total_s=5.0, outcome="ok", output_tokens=3, itl_ms=[]),
    _req("r2", 20, ttfb_s=0.01, ttft_s=0.05, total_s=1.0, outcome="ok", output_tokens=3, itl_ms=[10.0, 20.0]),
    _req("r3", 50, total_s=0.2, http_status=503, error="http_503", error_detail="no replica"),
    _req("r4", 70, ttfb_s=0.02, ttft_s=0.1, total_s=2.0, outcome="ok", output_tokens=2, itl_ms=[30.0]),
]
# 0 until 10 s, loading 10-13 s, 1 ready until 40 s, 2 until 60 s, 1 until 80 s, then 0.
KNOWN_SAMPLES = [(0, 0, 0), (10, 1, 0), (13, 1, 1), (40, 2, 2), (60, 1, 1), (80, 0, 0), (100, 0, 0)]


def summary_table(markdown: str) -> dict[str, str]:
    """Key -> value cell of the Summary table (rows `| label | value | `key` |`)."""
    return {
        m.group(2): m.group(1) for m in re.finditer(r"^\| [^|]+ \| ([^|]+) \| `(\w+)` \|$", markdown, re.M)
    }


@pytest.fixture
def known_report(tmp_path: Path) -> Path:
    run_dir = _write_run(tmp_path / "run", KNOWN_RECORDS, KNOWN_SAMPLES)
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text(
        "defaults:\n  error_rate: {max: 0.1}\n  cold_events: {min: 1}\n  itl_p99_ms: {max: 1000}\n"
    )
    write_report(run_dir, thresholds=thresholds)
    return run_dir


def test_summary_holds_the_hand_computed_numbers_when_the_run_is_known(known_report: Path) -> None:
    table = summary_table((known_report / "summary.md").read_text())
    expected = {
        "window_s": "100.000", "requests": "4", "ok": "3", "errors": "1", "error_rate": "0.2500",
        "throughput_rps": "0.030", "output_tokens_per_s": "0.080",
        "latency_p50_s": "2.000", "latency_max_s": "5.000",
        "ttft_p50_s": "0.100", "ttft_warm_p50_s": "0.075",
        "itl_p50_ms": "20.00", "itl_count": "3",
        "cold_requests": "1", "cold_events": "1", "cold_wait_max_s": "4.500", "warm_ttfb_p50_s": "0.015",
        "replicas_peak": "2",
        # 1x3 (loading) + 1x27 + 2x20 + 1x20 = 90 replica-seconds; always-on: 2 x 100 s.
        "replica_seconds": "90.000", "always_on_replica_seconds": "200.000",
        "replica_seconds_saved_pct": "55.00", "time_at_zero_pct": "30.00",
    }  # fmt: skip
    assert {k: table.get(k) for k in expected} == expected


def test_threshold_results_are_listed_when_a_thresholds_file_applies(known_report: Path) -> None:
    md = (known_report / "summary.md").read_text()
    assert "| `error_rate` | max | 0.1 | 0.2500 | FAIL |" in md
    assert "| `cold_events` | min | 1 | 1 | pass |" in md
    checks = json.loads((known_report / "summary.json").read_text())["checks"]
    assert {c["key"]: c["status"] for c in checks} == {
        "error_rate": "FAIL",
        "cold_events": "pass",
        "itl_p99_ms": "pass",
    }


def test_every_plot_is_a_decodable_png_when_report_is_written(known_report: Path) -> None:
    for name in PLOTS:
        data = (known_report / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        image = mpimg.imread(known_report / name)
        assert image.shape[0] > 200 and image.shape[1] > 400, name


def test_html_embeds_every_plot_and_fetches_nothing_when_opened(known_report: Path) -> None:
    page = (known_report / "report.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == len(PLOTS)
    assert all(base64.b64decode(b).startswith(PNG_SIGNATURE) for b in embedded)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "llmaz-serverless loadtest --local --out runs" in page


def test_report_states_where_and_how_it_ran_when_written(known_report: Path) -> None:
    md = (known_report / "summary.md").read_text()
    assert "test machine" in md
    assert "```\nllmaz-serverless loadtest --local --out runs\n```" in md
    assert "not KEDA" in md  # a local run says its scale to zero is a simulation
    assert "| 1 | m | 0.00 | 13.00 | 1 | 4.500 |" in md  # the scale-up: began after 0 s, ready at 13 s


def test_plots_and_summary_say_so_when_there_is_no_data_to_draw(tmp_path: Path) -> None:
    only_failures = [
        _req(f"e{i}", i, total_s=0.1, error="connection", error_detail="refused") for i in range(3)
    ]
    run_dir = _write_run(tmp_path / "empty", only_failures, samples=[])
    report = write_report(run_dir, thresholds=tmp_path / "none.yaml")
    table = summary_table((run_dir / "summary.md").read_text())
    assert table["errors"] == "3"
    assert table["latency_p50_s"] == "n/a"
    assert table["replica_seconds"] == "n/a"
    assert report.checks == []
    for name in PLOTS:
        assert (run_dir / name).read_bytes().startswith(PNG_SIGNATURE)


def test_missing_requests_csv_names_the_file_when_dir_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match=r"requests\.csv"):
        write_report(tmp_path)


def test_cost_is_reported_without_a_saving_when_replicas_stayed_at_zero(tmp_path: Path) -> None:
    refused = [_req(f"e{i}", i, total_s=0.1, http_status=404, error="http_404") for i in range(3)]
    run_dir = _write_run(tmp_path / "zero", refused, samples=[(0, 0, 0), (50, 0, 0), (100, 0, 0)])
    write_report(run_dir, thresholds=tmp_path / "none.yaml")
    table = summary_table((run_dir / "summary.md").read_text())
    assert (table["replica_seconds"], table["always_on_replica_seconds"]) == ("0.000", "0.000")
    assert table["replica_seconds_saved_pct"] == "n/a"
    assert table["time_at_zero_pct"] == "100.00"
    assert (run_dir / "cost.png").read_bytes().startswith(PNG_SIGNATURE)
