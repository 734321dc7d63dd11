"""Reading traces: the Azure trace as published, the project's CSV and JSONL, and bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmaz_serverless.trace.formats import TraceError, read_trace, write_trace

AZURE = """TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900,374,44
2023-11-16 18:15:50.9951690,396,109
2023-11-16 18:15:48.0000000,91,16
"""


def test_azure_trace_is_read_as_published(tmp_path: Path) -> None:
    path = tmp_path / "azure.csv"
    path.write_text(AZURE)
    trace = read_trace(path)
    # Sorted by time, t = 0 at the first request, 7-digit fractions kept to the microsecond.
    assert [round(a.t, 6) for a in trace.arrivals] == [0.0, 1.31941, 4.314579]
    assert [(a.prompt_tokens, a.output_tokens) for a in trace.arrivals] == [(374, 44), (91, 16), (396, 109)]
    assert trace.start_epoch == pytest.approx(1700158546.68059)
    assert "CC-BY 4.0" in trace.attribution


def test_project_csv_with_models_and_unknown_tokens(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("timestamp,prompt_tokens,output_tokens,model\n10.5,100,,a\n12,,20,b\n")
    trace = read_trace(path)
    assert [(a.t, a.prompt_tokens, a.output_tokens, a.model) for a in trace.arrivals] == [
        (0.0, 100, None, "a"),
        (1.5, None, 20, "b"),
    ]
    assert trace.start_epoch is None  # small numbers are relative seconds, not wall-clock


def test_jsonl_with_iso_times(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"timestamp": "2026-12-06T14:28:04Z", "prompt_tokens": 5, "output_tokens": 6}\n\n'
        '{"timestamp": "2026-12-06T14:28:06.5+00:00", "prompt_tokens": 7, "output_tokens": 8}\n'
    )
    trace = read_trace(path)
    assert [a.t for a in trace.arrivals] == [0.0, 2.5]
    assert trace.start_epoch is not None


def test_round_trip_through_write_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("timestamp,prompt_tokens,output_tokens,model\n0,1,2,m\n3.25,4,5,\n")
    again = read_trace(write_trace(read_trace(path), tmp_path / "out.csv"))
    assert [(a.t, a.prompt_tokens, a.output_tokens, a.model) for a in again.arrivals] == [
        (0.0, 1, 2, "m"),
        (3.25, 4, 5, None),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("time,prompt_tokens\n1,2\n", "has no `timestamp` column"),
        ("timestamp,prompt_tokens\nyesterday,2\n", "t.csv:2: timestamp 'yesterday' is neither seconds"),
        ("timestamp,prompt_tokens\n1,2.5\n", "t.csv:2: prompt_tokens '2.5' is not a whole number"),
        ("timestamp,prompt_tokens\n", "no requests in the trace"),
    ],
)
def test_bad_input_names_line_field_and_fix(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(TraceError, match="fix:") as err:
        read_trace(path)
    assert expected in str(err.value)


def test_event_rows_are_events_not_requests(tmp_path: Path) -> None:
    csv_path = tmp_path / "t.csv"
    csv_path.write_text(
        "timestamp,prompt_tokens,output_tokens,model,event\n5,,,,com.example.opened\n10,1,2,m,\n"
    )
    trace = read_trace(csv_path)
    assert [(a.t, a.model) for a in trace.arrivals] == [(0.0, "m")]
    assert trace.events == [(-5.0, {"type": "com.example.opened"})]  # before the first request
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"timestamp": 1, "event": {"type": "a", "source": "ui"}}\n{"timestamp": 2}\n')
    assert read_trace(jsonl).events == [(-1.0, {"type": "a", "source": "ui"})]
    again = read_trace(write_trace(trace, tmp_path / "out.csv"))
    assert again.events == trace.events and len(again.arrivals) == 1
