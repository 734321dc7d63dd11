"""The one SSE decoder: events out of bytes however the network splits them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmaz_serverless.sse import SseDecoder, chunk_error, is_done, openai_chunk

# An OpenAI completions stream with every line shape the decoder must handle: a comment,
# LF, CRLF and lone-CR line ends, a multi-byte character, an `event:` field, a multi-line
# event, a `data` line without a colon, and the [DONE] sentinel.
STREAM = (
    b": keep-alive\n\n"
    b'data: {"choices":[{"index":0,"text":"Hel"}]}\n\n'
    b'data: {"choices":[{"index":0,"text":"l\xc3\xa9"}]}\r\n\r\n'
    b"event: message\rdata:no-space\r\r"
    b"data: first\ndata\ndata: third\n\n"
    b'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}}\n\n'
    b"data: [DONE]\n\n"
)
EXPECTED = [
    '{"choices":[{"index":0,"text":"Hel"}]}',
    '{"choices":[{"index":0,"text":"lé"}]}',
    "no-space",
    "first\n\nthird",
    '{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}}',
    "[DONE]",
]


def decode(chunks: list[bytes]) -> list[str]:
    decoder = SseDecoder()
    events: list[str] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.close()


def test_events_are_data_payloads_without_comments_when_stream_is_whole() -> None:
    assert decode([STREAM]) == EXPECTED
    assert json.loads(decode([STREAM])[1])["choices"][0]["text"] == "lé"


def test_events_are_the_same_when_split_at_every_byte() -> None:
    assert decode([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=16))
def test_events_are_the_same_when_chunks_split_anywhere(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert decode(chunks) == EXPECTED


@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20), max_size=6), st.data()
)
def test_any_text_survives_when_encoded_as_data_lines_and_split_anywhere(
    payloads: list[str], data: st.DataObject
) -> None:
    # Every payload becomes one event; CR and LF inside it are what make several data lines.
    lines = [p.replace("\r\n", "\n").replace("\r", "\n") for p in payloads]
    stream = b"".join(
        b"".join(b"data: " + part.encode() + b"\r\n" for part in line.split("\n")) + b"\r\n" for line in lines
    )
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(stream)), max_size=10))))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert decode(chunks) == lines


def test_event_is_returned_by_the_feed_that_completes_it() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: a") == []
    assert decoder.feed(b"\n") == []  # the line is complete, the event is not
    assert decoder.feed(b"\n") == ["a"]


def test_crlf_split_between_reads_is_one_line_end_not_two() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: a\r") == []
    # Had the CR counted as a line end, the LF would be a blank line and end the event here.
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\n\r\n") == ["a\nb"]


def test_last_event_counts_without_blank_line_when_stream_closes() -> None:
    assert decode([b"data: a\ndata: b\n\ndata: tail"]) == ["a\nb", "tail"]
    assert decode([b"data: tail\r"]) == ["tail"]


def test_events_without_data_yield_nothing() -> None:
    assert decode([b"event: ping\nid: 7\nretry: 100\n\n: comment\n\n\n"]) == []


def test_invalid_utf8_is_replaced_rather_than_failing_the_stream() -> None:
    assert decode([b"data: a\xffb\n\n"]) == ["a\ufffdb"]


def test_done_sentinel_is_recognised_with_surrounding_space_only() -> None:
    assert is_done("[DONE]") and is_done(" [DONE] ")
    assert not is_done('{"text": "[DONE]"}')


def test_openai_chunk_is_the_object_or_none_at_done() -> None:
    assert openai_chunk(' {"choices": []} ') == {"choices": []}
    assert openai_chunk(" [DONE]\n") is None


@pytest.mark.parametrize(("data", "error"), [("{not json", json.JSONDecodeError), ("[1, 2]", TypeError)])
def test_openai_chunk_tells_not_json_from_not_an_object(data: str, error: type[Exception]) -> None:
    # The warmup client fails on either with its own message; the load test only notes the first.
    with pytest.raises(error):
        openai_chunk(data)


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        ({"error": {"message": "overloaded", "code": 503}}, "overloaded"),
        ({"error": {"code": 500}}, "{'code': 500}"),
        ({"error": "plain text"}, "plain text"),
        ({"choices": [{"text": "error"}]}, None),
    ],
)
def test_chunk_error_is_the_servers_message(chunk: dict[str, object], message: str | None) -> None:
    assert chunk_error(chunk) == message
