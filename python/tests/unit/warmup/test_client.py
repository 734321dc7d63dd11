"""Client pieces that need no server (its behaviour against a real model server is in
tests/integration/warmup/test_client.py)."""

import random

import pytest

from llmaz_serverless.warmup.client import RequestResult, RetryPolicy, Target, WarmupReport, request_body
from llmaz_serverless.warmup.prompts import Prompt


def test_full_jitter_delay_stays_under_doubling_ceiling():
    policy = RetryPolicy(attempts=8, base_s=0.5, max_s=4.0)
    rng = random.Random(1)
    for retry, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        delays = [policy.delay(retry, rng) for _ in range(200)]
        assert min(delays) >= 0.0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed delay


def test_retry_after_is_honoured_up_to_the_max_delay():
    policy = RetryPolicy(attempts=3, base_s=0.01, max_s=5.0)
    rng = random.Random(2)
    assert policy.delay(0, rng, retry_after=2.0) >= 2.0
    assert policy.delay(0, rng, retry_after=120.0) == 5.0


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
