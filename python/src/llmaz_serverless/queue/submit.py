"""Accepting an async request: validate, keep big bodies out of the queue, enqueue.

Used by the gateway's async routes (and by tests and the benchmark, which
submit the same way). Every rejection names the offending field as OpenAI's
`param` (`messages[1].role`, `async.webhook`) and says how to fix it.

The request body is an OpenAI body plus one optional reserved key, `async`,
which the gateway strips before queueing:

    {"model": "m", "messages": [...], "async": {"webhook": "https://..."}}
    {"model": "m", "async": {"inputLocation": "s3://bucket/prefix/in.json"}}

The second form sends the body by reference: the object holds the full OpenAI
request body and never passes through Redis.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from llmaz_serverless.config import ModelRuntime
from llmaz_serverless.notify.webhook import check_webhook_url
from llmaz_serverless.queue.broker import Broker
from llmaz_serverless.queue.job import Api, Job, new_job_id
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.queue.status import StatusStore
from llmaz_serverless.results.objects import ObjectLocationError, ObjectStore, PayloadTooLargeError, PutResult

ASYNC_KEY = "async"
ASYNC_OPTIONS = ("webhook", "inputLocation")
CHAT_ROLES = ("system", "user", "assistant", "tool", "developer", "function")


class SubmitError(Exception):
    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


@dataclass
class Submitted:
    job: Job
    input_bytes: int


def _bad(message: str, param: str | None, code: str = "invalid_value") -> SubmitError:
    return SubmitError(400, message, param=param, code=code)


def _is_int(value: Any) -> bool:
    # JSON has one number type: 16.0 is an integer to JSON Schema (and to the model server).
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise _bad("`messages` must be a non-empty array of {role, content} objects", "messages")
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise _bad(
                f"`{where}` must be an object with `role` and `content`, got {type(msg).__name__}", where
            )
        role = msg.get("role")
        if role not in CHAT_ROLES:
            raise _bad(
                f"`{where}.role` must be one of {', '.join(CHAT_ROLES)}; got {role!r}", f"{where}.role"
            )
        content = msg.get("content")
        if content is None and role == "assistant" and msg.get("tool_calls"):
            continue
        if not isinstance(content, str | list):
            raise _bad(
                f"`{where}.content` must be a string or an array of content parts; "
                f"got {type(content).__name__}",
                f"{where}.content",
            )


def _check_prompt(prompt: Any) -> None:
    ok = isinstance(prompt, str) or (
        isinstance(prompt, list)
        and prompt
        and (
            all(isinstance(p, str) for p in prompt)
            or all(_is_int(p) for p in prompt)
            or all(isinstance(p, list) and all(_is_int(t) for t in p) for p in prompt)
        )
    )
    if not ok:
        raise _bad("`prompt` must be a string, an array of strings, or token ids", "prompt")


def _check_sampling(body: dict[str, Any]) -> None:
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (not _is_int(value) or value < 1):
            raise _bad(f"`{name}` must be a positive integer; got {value!r}", name)
    n = body.get("n")
    if n is not None and (not _is_int(n) or not 1 <= n <= 128):
        raise _bad(f"`n` must be an integer from 1 to 128; got {n!r}", "n")
    for name, low, high in (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)):
        value = body.get(name)
        if value is not None and (not _is_number(value) or not low <= value <= high):
            raise _bad(f"`{name}` must be a number from {low} to {high}; got {value!r}", name)


@dataclass(kw_only=True, eq=False)
class Submitter:
    """Validates and enqueues async requests; shared by the gateway's API, tests and the benchmark."""

    settings: QueueSettings
    # Every model the gateway knows, by name (a 404 names them); queue.models narrows the async ones.
    models: dict[str, ModelRuntime]
    broker: Broker
    status: StatusStore
    # Where big bodies and uploads go; None when queue.objectStore.type is 'none'.
    objects: ObjectStore | None

    def _model(self, body: dict[str, Any]) -> str:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _bad("`model` is required: the name of the model to run, e.g. one listed by GET /v1/models",
                       "model", "missing_required_parameter")  # fmt: skip
        if model not in self.models:
            raise SubmitError(
                404,
                f"model {model!r} does not exist; known models: {', '.join(sorted(self.models)) or 'none'}",
                param="model",
                code="model_not_found",
            )
        if self.settings.models and model not in self.settings.models:
            # Its stream would have no worker (nor KEDA trigger) to drain it.
            raise _bad(
                f"model {model!r} is not served asynchronously; async models: "
                f"{', '.join(self.settings.models)} (queue.models)",
                "model",
                "model_not_async",
            )
        return model

    def _options(self, body: dict[str, Any]) -> dict[str, Any]:
        options = body.get(ASYNC_KEY, {})
        if options is None:
            return {}
        if not isinstance(options, dict):
            raise _bad("`async` must be an object with optional `webhook` and `inputLocation`", ASYNC_KEY)
        unknown = sorted(set(options) - set(ASYNC_OPTIONS))
        if unknown:
            raise _bad(
                f"`async.{unknown[0]}` is not an async option; known: {', '.join(ASYNC_OPTIONS)}",
                f"{ASYNC_KEY}.{unknown[0]}",
            )
        webhook = options.get("webhook")
        if webhook is not None:
            if not isinstance(webhook, str):
                raise _bad("`async.webhook` must be a URL string", "async.webhook")
            problem = check_webhook_url(webhook, self.settings.notifications.allowed_hosts)
            if problem:
                raise _bad(problem, "async.webhook")
        location = options.get("inputLocation")
        if location is not None and not isinstance(location, str):
            raise _bad("`async.inputLocation` must be a URI string", "async.inputLocation")
        return options

    async def submit(
        self,
        api: Api,
        body: Any,
        *,
        tenant: str,
        job_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Submitted:
        """Validate and enqueue; raises SubmitError with the field at fault.

        `job_id` lets a caller with its own idempotency (event intake) choose the id;
        `extra` is kept on the job for tracing (the triggering event).
        """
        if not isinstance(body, dict):
            raise _bad(f"the request body must be a JSON object, got a JSON {type(body).__name__}", None)
        model = self._model(body)
        options = self._options(body)
        if "stream" in body and body["stream"] is not False:
            raise _bad(
                "`stream` is not supported on async requests: the result is stored whole; "
                f"remove `stream` or set it to false (got {body['stream']!r})",
                "stream",
            )
        location = options.get("inputLocation")
        job_id = job_id or new_job_id()
        if location is not None:
            beside = sorted(k for k in body if k not in ("model", ASYNC_KEY))
            if beside:
                raise _bad(
                    f"give the request either inline or by `async.inputLocation`, not both "
                    f"(found `{beside[0]}` beside inputLocation)",
                    "async.inputLocation",
                )
            size = await self._check_location(location)
            job = self._job(job_id, model, api, tenant, options, extra, input_location=location)
            await self._enqueue(job, size)
            return Submitted(job=job, input_bytes=size)

        if api == "chat":
            _check_messages(body.get("messages"))
        else:
            if "prompt" not in body:
                raise _bad("`prompt` is required for completions", "prompt", "missing_required_parameter")
            _check_prompt(body["prompt"])
        _check_sampling(body)
        request = {k: v for k, v in body.items() if k != ASYNC_KEY}
        text = json.dumps(request, separators=(",", ":"))
        size = len(text.encode())
        if size > self.settings.payloads.max_bytes:
            limit = self.settings.payloads.max_bytes
            raise SubmitError(
                413, f"request is {size} bytes; the limit is queue.payloads.maxBytes ({limit})",
                code="payload_too_large",
            )  # fmt: skip
        if size > self.settings.payloads.inline_max_bytes:
            # Too big for a queue entry: kept in the object store, only the reference is queued.
            if self.objects is None:
                raise SubmitError(
                    413,
                    f"request is {size} bytes, above queue.payloads.inlineMaxBytes "
                    f"({self.settings.payloads.inline_max_bytes}), and no object store is configured for "
                    "larger payloads; shorten it or ask the operator to set queue.objectStore",
                    code="payload_too_large",
                )
            put = await self.objects.put_bytes(f"payloads/{tenant}/{job_id}.json", text.encode())
            job = self._job(job_id, model, api, tenant, options, extra, input_location=put.uri)
        else:
            job = self._job(job_id, model, api, tenant, options, extra, body=text)
        await self._enqueue(job, size)
        return Submitted(job=job, input_bytes=size)

    def _job(
        self, job_id: str, model: str, api: Api, tenant: str, options: dict[str, Any],
        extra: dict[str, Any] | None, **payload: Any,
    ) -> Job:  # fmt: skip
        return Job(
            id=job_id, model=model, api=api, tenant=tenant, created_at=time.time(),
            webhook=options.get("webhook"), extra=dict(extra or {}), **payload,
        )  # fmt: skip

    async def _check_location(self, location: str) -> int:
        try:
            urlsplit(location)
        except ValueError as err:  # e.g. "Invalid IPv6 URL" for a stray bracket
            raise _bad(
                f"`async.inputLocation` {location!r} is not a URI: {err}", "async.inputLocation"
            ) from err
        # A well-formed body naming a payload this deployment cannot read: not a malformed
        # request (400) but a missing (404) or off-limits (403) resource, as the API document says.
        if self.objects is None:
            raise SubmitError(
                404,
                "payloads by reference are not enabled here (queue.objectStore.type is 'none'); "
                "send the request inline",
                param="async.inputLocation", code="payloads_disabled",
            )  # fmt: skip
        try:
            self.objects.check_uri(location)
        except ObjectLocationError as err:
            raise SubmitError(
                403, f"{err}; use the inputLocation POST /v1/async/payloads returned",
                param="async.inputLocation", code="location_forbidden",
            ) from err  # fmt: skip
        size = await self.objects.size(location)
        if size is None:
            raise SubmitError(
                404,
                f"no payload at {location}; upload it first (POST /v1/async/payloads returns a location)",
                param="async.inputLocation",
                code="payload_not_found",
            )
        if size > self.settings.payloads.max_bytes:
            raise SubmitError(
                413,
                f"payload at {location} is {size} bytes; the limit is queue.payloads.maxBytes "
                f"({self.settings.payloads.max_bytes})",
                param="async.inputLocation",
                code="payload_too_large",
            )
        return size

    async def _enqueue(self, job: Job, size: int) -> None:
        # Status first: a worker never sees an entry whose status does not exist yet.
        await self.status.create(job, input_bytes=size)
        await self.broker.enqueue(job)

    async def upload(self, chunks: AsyncIterator[bytes], *, tenant: str) -> PutResult:
        """Store an uploaded payload (streamed, never held whole); its URI goes in `inputLocation`."""
        if self.objects is None:
            # 404: this deployment has no upload endpoint to speak of.
            raise SubmitError(
                404,
                "payload uploads are not enabled here (queue.objectStore.type is 'none'); "
                "send requests inline",
                code="payloads_disabled",
            )
        try:
            put = await self.objects.put_stream(
                f"payloads/{tenant}/{uuid.uuid4().hex}.json",
                chunks,
                max_bytes=self.settings.payloads.max_bytes,
            )
        except PayloadTooLargeError as err:
            raise SubmitError(
                413, f"payload exceeds queue.payloads.maxBytes ({err.limit} bytes)", code="payload_too_large"
            ) from err
        if put.size == 0:
            # Known only once the stream ended (a chunked body declares no length).
            await self.objects.delete(put.uri)
            raise SubmitError(
                400, "the payload is empty; send the whole OpenAI request body", code="empty_payload"
            )
        return put
