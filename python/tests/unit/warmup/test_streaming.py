import pytest

from llmaz_serverless.sse import SseDecoder
from llmaz_serverless.warmup.streaming import StreamError, StreamStats

STREAM = (
    b": keep-alive\n\n"
    b'data: {"choices":[{"index":0,"text":"Hel"}]}\n\n'
    b'data: {"choices":[{"index":0,"text":"l\xc3\xa9"}]}\r\n\r\n'
    b'data: {"choices":[{"index":0,"text":"","finish_reason":"length"}]}\n\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}}\n\n'
    b"data: [DONE]\n\n"
)


def decode_all(chunks: list[bytes]) -> list[str]:
    decoder = SseDecoder()
    events = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.close()


def test_stats_count_tokens_first_token_time_usage_and_done_when_completions_stream():
    stats = StreamStats()
    for i, payload in enumerate(decode_all([STREAM])):
        stats.add(payload, elapsed_s=0.1 * (i + 1))
    assert stats.text == "Hellé"
    assert stats.token_chunks == 2
    assert stats.first_token_s == pytest.approx(0.1)  # the first data event carries text
    assert (stats.prompt_tokens, stats.completion_tokens) == (12, 2)
    assert stats.finish_reason == "length"
    assert stats.done


def test_stats_read_chat_deltas_and_ignore_role_only_chunk():
    stats = StreamStats()
    stats.add('{"choices":[{"index":0,"delta":{"role":"assistant"}}]}', 0.05)
    stats.add('{"choices":[{"index":0,"delta":{"content":"Hi"}}]}', 0.07)
    assert stats.first_token_s == 0.07
    assert stats.token_chunks == 1


def test_whole_json_response_counts_when_server_ignores_stream():
    stats = StreamStats()
    stats.add_body(
        {"choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}, 0.3
    )
    assert stats.text == "ok" and stats.finish_reason == "stop"


def test_error_inside_stream_raises_with_server_message():
    with pytest.raises(StreamError, match="out of memory"):
        StreamStats().add('{"error":{"message":"CUDA out of memory","code":500}}', 0.1)


def test_non_json_chunk_raises_quoting_it():
    with pytest.raises(StreamError, match="not JSON"):
        StreamStats().add("<html>bad gateway</html>", 0.1)
