"""OpenAI-compatible generation endpoints of the emulator, shaped like vLLM's answers.

/v1/completions and /v1/chat/completions, streamed (SSE `data: {...}` chunks
ending with `data: [DONE]`) or not. Output always runs to `max_tokens`
(finish_reason "length"); usage is in every non-streamed answer and in a final
chunk when `stream_options.include_usage` is true, as OpenAI does.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from aiohttp import web

from llmaz_serverless.emulator.engine import Engine
from llmaz_serverless.emulator.text import (
    generate_tokens,
    make_rng,
    prompt_tokens_of_chat,
    prompt_tokens_of_completion,
)
from llmaz_serverless.openai_paths import COMPLETIONS
from llmaz_serverless.sse import DONE

ENGINE_KEY = web.AppKey("engine", Engine)

_SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
_DONE = f"data: {DONE}\n\n".encode()


def error_response(status: int, message: str, err_type: str, param: str | None = None) -> web.Response:
    """An error in the shape vLLM's OpenAI server uses."""
    body = {"error": {"message": message, "type": err_type, "param": param, "code": status}}
    return web.json_response(body, status=status)


class _Request:
    """The parsed, validated parameters of one generation request."""

    def __init__(self, body: dict[str, Any], chat: bool) -> None:
        self.body = body
        self.chat = chat
        self.stream = bool(body.get("stream"))
        options = body.get("stream_options") or {}
        self.include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
        self.n = body.get("n") or 1
        max_tokens = body.get("max_completion_tokens") if chat else None
        self.max_tokens = max_tokens if max_tokens is not None else body.get("max_tokens")
        if chat:
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                raise ValueError("messages: expected a non-empty list of {role, content} objects")
            self.prompt_tokens = prompt_tokens_of_chat(body)
            self.prompt_key: Any = messages
        else:
            if "prompt" not in body:
                raise ValueError(f"prompt: required for {COMPLETIONS.path}")
            self.prompt_tokens = prompt_tokens_of_completion(body)
            self.prompt_key = body["prompt"]
        if not isinstance(self.n, int) or isinstance(self.n, bool) or not 1 <= self.n <= 16:
            raise ValueError(f"n: expected an integer from 1 to 16, got {self.n!r}")
        if isinstance(self.max_tokens, float) and self.max_tokens.is_integer():
            # JSON has one number type: 16.0 is an integer to JSON Schema and to vLLM's pydantic.
            self.max_tokens = int(self.max_tokens)
        if self.max_tokens is not None and (
            not isinstance(self.max_tokens, int) or isinstance(self.max_tokens, bool) or self.max_tokens < 1
        ):
            raise ValueError(f"max_tokens: expected a positive integer, got {self.max_tokens!r}")

    def check_context(self, max_model_len: int, default_max_tokens: int) -> None:
        """vLLM refuses a request that cannot fit the model's context; so does the emulator."""
        wanted = self.prompt_tokens + (self.max_tokens or default_max_tokens)
        if wanted > max_model_len:
            raise ValueError(
                f"This model's maximum context length is {max_model_len} tokens. However, you requested "
                f"{wanted} tokens ({self.prompt_tokens} in the messages, "
                f"{wanted - self.prompt_tokens} in the completion). Please reduce the length of the "
                "messages or completion."
            )


async def completions(request: web.Request) -> web.StreamResponse:
    return await _generate(request, chat=False)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await _generate(request, chat=True)


async def _generate(request: web.Request, chat: bool) -> web.StreamResponse:
    engine = request.app[ENGINE_KEY]
    settings = engine.settings
    engine.totals.requests += 1
    engine.touch()
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return error_response(400, f"request body is not valid JSON: {err}", "BadRequestError")
    if not isinstance(body, dict):
        return error_response(400, "request body must be a JSON object", "BadRequestError")
    if body.get("model") != settings.model:
        return error_response(
            404, f"The model `{body.get('model')}` does not exist.", "NotFoundError", param="model"
        )
    try:
        params = _Request(body, chat)
        params.check_context(settings.max_model_len, settings.default_max_tokens)
    except ValueError as err:
        return error_response(400, str(err), "BadRequestError")

    engine.wake()
    if not engine.ready:
        if not settings.hold_while_loading:
            engine.totals.rejected_loading += 1
            return error_response(503, f"model {settings.model} is loading", "ServiceUnavailableError")
        await engine.wait_loaded()
    status = engine.draw_failure()
    if status is not None:
        return error_response(status, f"injected failure ({status})", "InternalServerError")

    max_tokens = params.max_tokens or settings.default_max_tokens
    rng = make_rng(settings.model, body, params.prompt_key, engine.text_rng)
    choices = [generate_tokens(rng, max_tokens) for _ in range(params.n)]
    slowdown = engine.slowdown()
    ttft = engine.timing.first_token(params.prompt_tokens) * slowdown
    itl = engine.timing.itl * slowdown
    started = time.monotonic()
    kv_tokens = (params.prompt_tokens + max_tokens) * params.n
    try:
        async with engine.slot(kv_tokens):
            if params.stream:
                response = await _stream(request, engine, params, choices, ttft, itl)
            else:
                response = await _respond(engine, params, choices, ttft, itl)
    except (asyncio.CancelledError, ConnectionResetError):
        # The client went away: vLLM aborts the request and frees its slot.
        engine.totals.cancelled += 1
        engine.metrics.success_abort.inc()
        raise
    m = engine.metrics
    m.e2e.observe(time.monotonic() - started)
    m.success_length.inc(params.n)
    m.prompt_tokens.inc(params.prompt_tokens)
    m.generation_tokens.inc(max_tokens * params.n)
    m.request_prompt_tokens.observe(params.prompt_tokens)
    m.request_generation_tokens.observe(max_tokens * params.n)
    engine.totals.completed += 1
    return response


async def _pace(engine: Engine, ttft: float, itl: float, tokens: int) -> None:
    """Sleep like a non-streamed generation of `tokens` tokens and record its metrics."""
    m = engine.metrics
    await asyncio.sleep(ttft)
    m.ttft.observe(ttft)
    if tokens > 1:
        await asyncio.sleep(itl * (tokens - 1))
        m.tpot.observe(itl)


async def _respond(
    engine: Engine, params: _Request, choices: list[list[str]], ttft: float, itl: float
) -> web.Response:
    max_tokens = len(choices[0])
    await _pace(engine, ttft, itl, max_tokens)
    created = int(time.time())
    model = engine.settings.model
    usage = _usage(params, max_tokens)
    if params.chat:
        body: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": "".join(tokens)},
                    "logprobs": None,
                    "finish_reason": "length",
                }
                for i, tokens in enumerate(choices)
            ],
            "usage": usage,
        }
    else:
        body = {
            "id": f"cmpl-{uuid.uuid4().hex}",
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [
                {"index": i, "text": "".join(tokens), "logprobs": None, "finish_reason": "length"}
                for i, tokens in enumerate(choices)
            ],
            "usage": usage,
        }
    return web.json_response(body)


def _usage(params: _Request, max_tokens: int) -> dict[str, int]:
    completion = max_tokens * params.n
    return {
        "prompt_tokens": params.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": params.prompt_tokens + completion,
    }


class _ChunkFormat:
    """Pre-rendered halves of one choice's chunk, so a token costs one json.dumps of a string."""

    def __init__(self, chat: bool, chunk_id: str, created: int, model: str, index: int) -> None:
        head = {"id": chunk_id, "created": created, "model": model}
        head["object"] = "chat.completion.chunk" if chat else "text_completion"
        self._head = "data: " + json.dumps(head)[:-1] + ', "choices": [{"index": ' + str(index) + ", "
        if chat:
            self._token = self._head + '"delta": {"content": '
            self._tail_open = '}, "logprobs": null, "finish_reason": null}]}\n\n'
            self._tail_last = '}, "logprobs": null, "finish_reason": "length"}]}\n\n'
        else:
            self._token = self._head + '"text": '
            self._tail_open = ', "logprobs": null, "finish_reason": null}]}\n\n'
            self._tail_last = ', "logprobs": null, "finish_reason": "length"}]}\n\n'
        self.role = (
            (self._head + '"delta": {"role": "assistant", "content": ""}, "logprobs": null, '
             '"finish_reason": null}]}\n\n').encode()
            if chat else b""
        )  # fmt: skip

    def token(self, text: str, last: bool) -> bytes:
        return (self._token + json.dumps(text) + (self._tail_last if last else self._tail_open)).encode()


async def _stream(
    request: web.Request, engine: Engine, params: _Request, choices: list[list[str]], ttft: float, itl: float
) -> web.StreamResponse:
    settings = engine.settings
    m = engine.metrics
    chunk_id = f"{'chatcmpl' if params.chat else 'cmpl'}-{uuid.uuid4().hex}"
    created = int(time.time())
    formats = [_ChunkFormat(params.chat, chunk_id, created, settings.model, i) for i in range(params.n)]
    response = web.StreamResponse(headers=_SSE_HEADERS)
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    start = loop.time()
    max_tokens = len(choices[0])
    previous = start
    # Absolute deadlines per token keep the pace exact however long a write takes.
    for step in range(max_tokens):
        target = start + ttft + itl * step
        delay = target - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = loop.time()
        if step == 0:
            m.ttft.observe(now - start)
        else:
            m.itl.observe(now - previous)
        previous = now
        last = step == max_tokens - 1
        parts = []
        for fmt, tokens in zip(formats, choices, strict=True):
            if step == 0 and params.chat:
                parts.append(fmt.role)
            parts.append(fmt.token(tokens[step], last))
        await response.write(b"".join(parts))
    if max_tokens > 1:
        m.tpot.observe((loop.time() - start - ttft) / (max_tokens - 1))
    if params.include_usage:
        usage_chunk: dict[str, Any] = {
            "id": chunk_id,
            "object": "chat.completion.chunk" if params.chat else "text_completion",
            "created": created,
            "model": settings.model,
            "choices": [],
            "usage": _usage(params, max_tokens),
        }
        await response.write(b"data: " + json.dumps(usage_chunk).encode() + b"\n\n")
    await response.write(_DONE)
    await response.write_eof()
    return response
