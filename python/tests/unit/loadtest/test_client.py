from __future__ import annotations

import json

import pytest

from llmaz_serverless.loadtest.client import StreamParser


def _chunk(content: str | None = None, text: str | None = None, usage: dict | None = None) -> bytes:
    event: dict = {"choices": []}
    if content is not None:
        event["choices"] = [{"index": 0, "delta": {"content": content}}]
    if text is not None:
        event["choices"] = [{"index": 0, "text": text}]
    if usage is not None:
        event["usage"] = usage
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def test_tokens_are_timed_when_their_chunk_arrives_even_split_across_reads() -> None:
    parser = StreamParser("chat")
    stream = _chunk(content="") + _chunk(content="Hel") + _chunk(content="lo") + b"data: [DONE]\n\n"
    # Cut the bytes at awkward places: a token only counts once its line is complete.
    cut1, cut2 = stream.index(b"Hel") + 1, stream.index(b"lo") + 1
    parser.feed(stream[:cut1], 1.0)
    assert parser.token_times == []
    parser.feed(stream[cut1:cut2], 1.5)
    assert parser.token_times == [1.5]
    parser.feed(stream[cut2:], 1.52)
    parser.finish(1.6)
    assert parser.token_times == [1.5, 1.52]
    assert parser.done
    assert parser.inter_token_ms() == pytest.approx([20.0])


def test_empty_role_chunk_is_not_a_token_when_chat_stream_starts() -> None:
    parser = StreamParser("chat")
    parser.feed(_chunk(content=""), 0.1)
    parser.feed(b'data: {"choices": [{"delta": {"role": "assistant"}}]}\n\n', 0.2)
    assert parser.token_times == []


def test_completions_text_counts_and_usage_is_kept_when_server_reports_it() -> None:
    parser = StreamParser("completions")
    parser.feed(_chunk(text="a") + _chunk(text="b") + _chunk(text="c"), 2.0)
    parser.feed(_chunk(usage={"prompt_tokens": 9, "completion_tokens": 3}) + b"data: [DONE]\n\n", 2.1)
    assert parser.token_times == [2.0, 2.0, 2.0]
    assert parser.usage == {"prompt_tokens": 9, "completion_tokens": 3}


def test_error_event_is_reported_when_stream_carries_one() -> None:
    parser = StreamParser("chat")
    parser.feed(b'data: {"error": {"message": "engine died", "code": 500}}\n\n', 1.0)
    assert parser.error == "engine died"


def test_comments_and_event_lines_are_ignored_when_present() -> None:
    parser = StreamParser("chat")
    parser.feed(b": ping\n\nevent: message\n" + _chunk(content="x"), 1.0)
    assert parser.token_times == [1.0]
    assert parser.error == ""


def test_garbage_data_is_an_error_when_not_json() -> None:
    parser = StreamParser("chat")
    parser.feed(b"data: {not json\n\n", 1.0)
    assert "unparseable" in parser.error


def test_garbage_data_is_quoted_as_bytes_when_reported() -> None:
    # The text recorded in reports before the parser moved onto the shared SSE decoder.
    parser = StreamParser("chat")
    parser.feed(b"data:  {not json \r\n\r\n", 1.0)
    assert parser.error == "unparseable SSE data: b'{not json'"


def test_token_is_timed_when_its_event_ends_when_blank_line_comes_in_a_later_read() -> None:
    parser = StreamParser("completions")
    parser.feed(_chunk(text="a")[:-1], 1.0)
    assert parser.token_times == []
    parser.feed(b"\n", 1.25)
    assert parser.token_times == [1.25]
