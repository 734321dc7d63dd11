"""Submit-time validation: bad bodies are refused with the field named, before anything is queued.

The Submitter is built without a broker or status store: every case here must be
refused before either is touched (a case that got through would fail on None).
"""

from __future__ import annotations

from typing import Any

import pytest

from llmaz_serverless.config import ModelRuntime
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.queue.submit import SubmitError, Submitter


def _submitter(**settings: Any) -> Submitter:
    model = ModelRuntime(name="m", playground="m", upstream="http://127.0.0.1:9")
    return Submitter(
        settings=QueueSettings.model_validate(settings), models={"m": model},
        broker=None, status=None, objects=None,  # type: ignore[arg-type]
    )  # fmt: skip


CHAT = [{"role": "user", "content": "hi"}]
BAD_CONTENT = [*CHAT, {"role": "user", "content": 5}]


@pytest.mark.parametrize(
    "api, body, status, param, words",
    [
        ("chat", ["not", "an", "object"], 400, None, "JSON object"),
        ("chat", {"messages": CHAT}, 400, "model", "`model` is required"),
        ("chat", {"model": "nope", "messages": CHAT}, 404, "model", "known models: m"),
        ("chat", {"model": "m"}, 400, "messages", "non-empty array"),
        ("chat", {"model": "m", "messages": []}, 400, "messages", "non-empty array"),
        ("chat", {"model": "m", "messages": ["hi"]}, 400, "messages[0]", "object with `role`"),
        (
            "chat",
            {"model": "m", "messages": [{"role": "robot", "content": "x"}]},
            400,
            "messages[0].role",
            "bot",
        ),
        ("chat", {"model": "m", "messages": BAD_CONTENT}, 400, "messages[1].content", "string or an array"),
        ("chat", {"model": "m", "messages": CHAT, "stream": True}, 400, "stream", "not supported on async"),
        ("chat", {"model": "m", "messages": CHAT, "stream": {}}, 400, "stream", "set it to false (got {})"),
        ("chat", {"model": "m", "messages": CHAT, "max_tokens": 0}, 400, "max_tokens", "positive integer"),
        ("chat", {"model": "m", "messages": CHAT, "max_tokens": "9"}, 400, "max_tokens", "positive integer"),
        ("chat", {"model": "m", "messages": CHAT, "temperature": 7}, 400, "temperature", "from 0.0 to 2.0"),
        ("chat", {"model": "m", "messages": CHAT, "n": True}, 400, "n", "integer from 1"),
        ("chat", {"model": "m", "messages": CHAT, "async": "yes"}, 400, "async", "must be an object"),
        (
            "chat",
            {"model": "m", "messages": CHAT, "async": {"callback": "x"}},
            400,
            "async.callback",
            "not an async option",
        ),
        (
            "chat",
            {"model": "m", "messages": CHAT, "async": {"webhook": "ftp://x/y"}},
            400,
            "async.webhook",
            "http:// or https://",
        ),
        (
            "chat",
            {"model": "m", "async": {"inputLocation": "s3://b/k"}},
            404,
            "async.inputLocation",
            "not enabled here",
        ),
        (
            "chat",
            {"model": "m", "async": {"inputLocation": "s3://b]k"}},
            400,
            "async.inputLocation",
            "not a URI",
        ),
        ("completions", {"model": "m"}, 400, "prompt", "`prompt` is required"),
        ("completions", {"model": "m", "prompt": {"text": "x"}}, 400, "prompt", "string, an array"),
    ],
)
async def test_submit_refuses_with_field_named_when_body_is_invalid(
    api: str, body: Any, status: int, param: str | None, words: str
) -> None:
    with pytest.raises(SubmitError) as caught:
        await _submitter().submit(api, body, tenant="t")  # type: ignore[arg-type]
    assert caught.value.status == status
    assert caught.value.param == param
    assert words in caught.value.message


async def test_submit_refuses_webhook_host_when_not_in_allowed_hosts() -> None:
    sub = _submitter(notifications={"allowedHosts": ["hooks.example.com"]})
    body = {"model": "m", "messages": CHAT, "async": {"webhook": "http://169.254.169.254/latest"}}
    with pytest.raises(SubmitError) as caught:
        await sub.submit("chat", body, tenant="t")
    assert caught.value.param == "async.webhook"
    assert "allowedHosts" in caught.value.message


async def test_submit_refuses_413_naming_the_fix_when_body_exceeds_inline_limit_without_object_store() -> (
    None
):
    sub = _submitter(payloads={"inlineMaxBytes": 100})
    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 200}]}
    with pytest.raises(SubmitError) as caught:
        await sub.submit("chat", body, tenant="t")
    assert caught.value.status == 413
    assert "queue.objectStore" in caught.value.message


async def test_submit_refuses_a_known_model_when_it_is_not_in_the_async_model_list() -> None:
    with pytest.raises(SubmitError) as caught:
        await _submitter(models=["other"]).submit("chat", {"model": "m", "messages": CHAT}, tenant="t")
    assert (caught.value.status, caught.value.param, caught.value.code) == (400, "model", "model_not_async")
    assert "queue.models" in caught.value.message
