"""Client pieces that need no server (its behaviour against a real model server is in
tests/integration/warmup/test_client.py)."""

import pytest

from llmaz_serverless.warmup.client import RequestResult, Target, WarmupReport, request_body
from llmaz_serverless.warmup.prompts import Prompt


def test_completions_body_is_greedy_streamed_with_usage():
    body = request_body("completions", "llama", Prompt("a b c", 3, 8))
    assert body == {
        "model": "llama",
        "prompt": "a b c",
        "max_tokens": 8,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_chat_body_sends_prompt_as_user_message():
    body = request_body("chat", "llama", Prompt("hi", 1, 4))
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert "prompt" not in body


def test_unknown_api_is_rejected_naming_the_choices():
    with pytest.raises(ValueError, match="'completions' or 'chat'"):
        request_body("embeddings", "llama", Prompt("hi", 1, 4))


def test_target_url_joins_prefix_without_double_slashes():
    assert Target("http://10.0.0.7:8080/", "m", path_prefix="/llama/").url("/v1/completions") == (
        "http://10.0.0.7:8080/llama/v1/completions"
    )


def test_summary_names_each_request_and_the_deadline():
    ok = RequestResult(16, 16, ok=True, attempts=2, first_token_s=0.25)
    failed = RequestResult(2048, 16, error="HTTP 400 from x: too long")
    summary = WarmupReport(ok=False, timed_out=True, duration_s=3.2, results=[ok, failed]).summary()
    assert summary == (
        "1/2 warmup requests ok in 3.2s (deadline reached); 16+16 ok ttft=0.25s attempts=2; "
        "2048+16 failed (HTTP 400 from x: too long)"
    )
