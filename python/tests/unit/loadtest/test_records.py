from __future__ import annotations

from pathlib import Path

from llmaz_serverless.loadtest.records import (
    REPLICA_COLUMNS,
    REQUEST_COLUMNS,
    CsvAppender,
    RequestRecord,
    append_request,
    read_replicas,
    read_requests,
)


def test_request_rows_read_back_equal_when_written(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    out = CsvAppender(path, REQUEST_COLUMNS)
    full = RequestRecord(
        "r1",
        "chat",
        "m",
        True,
        1_700_000_000.25,
        ttfb_s=0.5,
        ttft_s=0.75,
        total_s=1.5,
        http_status=200,
        outcome="ok",
        prompt_tokens=10,
        max_tokens=4,
        server_prompt_tokens=12,
        output_tokens=4,
        itl_ms=[10.5, 11.25, 9.0],
        cache="MISS",
    )
    failed = RequestRecord(
        "r2",
        "completions",
        "m",
        False,
        1_700_000_001.0,
        total_s=0.1,
        http_status=503,
        error="http_503",
        error_detail='body with "quotes", commas\nand a newline',
    )
    append_request(out, full)
    append_request(out, failed)
    out.close()
    assert read_requests(path) == [full, failed]


def test_header_is_written_once_when_appending_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "replicas.csv"
    for value in (0, 1):
        out = CsvAppender(path, REPLICA_COLUMNS)
        out.append({"time": 1.0 + value, "model": "m", "replicas": value, "ready": value, "source": "state"})
        out.close()
    samples = read_replicas(path)
    assert [(s.replicas, s.ready, s.desired) for s in samples] == [(0, 0, None), (1, 1, None)]
    assert path.read_text().count("time,model") == 1


def test_missing_replicas_file_reads_as_no_samples_when_no_source_ran(tmp_path: Path) -> None:
    assert read_replicas(tmp_path / "replicas.csv") == []
