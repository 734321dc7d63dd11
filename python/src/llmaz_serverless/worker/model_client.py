"""Calling the model for one job, the way the gateway does.

The request goes to the model's `upstream` (the KEDA HTTP interceptor in a
cluster) with the model's Host and route headers, so a model at zero is woken
and the request held until it is Ready. The timeout therefore starts with the
model's cold-start budget, then the generation budget: a non-streaming answer
arrives only when generation ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import KW_ONLY, dataclass

import aiohttp

from llmaz_serverless.config import ModelRuntime
from llmaz_serverless.openai_paths import BY_API
from llmaz_serverless.queue.job import Job
from llmaz_serverless.results.objects import ObjectLocationError, ObjectNotFoundError, ObjectStore

# Statuses worth another attempt: the model or the interceptor may recover.
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class ModelCallError(Exception):
    def __init__(
        self, message: str, *, retryable: bool, status: int | None = None, code: str = "model_error"
    ):
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.code = code

    def as_error(self) -> dict[str, object]:
        err: dict[str, object] = {"code": self.code, "message": str(self)}
        if self.status is not None:
            err["status"] = self.status
        return err


@dataclass
class ModelReply:
    body: bytes
    content_type: str
    status: int


@dataclass(eq=False)
class ModelClient:
    session: aiohttp.ClientSession
    _: KW_ONLY
    # Generation budget in seconds for a model without timeouts.request of its own.
    model_timeout: float
    # A reply above this many bytes fails the job instead of filling memory.
    max_result_bytes: int
    # Where by-reference job inputs are read from; None: such jobs fail as unreachable.
    objects: ObjectStore | None = None

    @staticmethod
    def url(model: ModelRuntime, job: Job) -> str:
        return model.upstream.rstrip("/") + model.path_prefix.rstrip("/") + BY_API[job.api].path

    def timeout(self, model: ModelRuntime) -> aiohttp.ClientTimeout:
        work = model.timeouts.request if model.timeouts.request else self.model_timeout
        return aiohttp.ClientTimeout(total=model.timeouts.cold_start + work)

    async def _body(self, job: Job) -> bytes | AsyncIterator[bytes]:
        if job.body is not None:
            return job.body.encode()
        assert job.input_location is not None
        if self.objects is None:
            raise ModelCallError(
                f"job input is at {job.input_location} but this worker has no object store "
                "(set queue.objectStore)",
                retryable=False,
                code="payload_unreachable",
            )
        try:
            size = await self.objects.size(job.input_location)
        except ObjectLocationError as err:
            raise ModelCallError(str(err), retryable=False, code="payload_unreachable") from err
        if size is None:
            raise ModelCallError(
                f"input payload {job.input_location} no longer exists",
                retryable=False,
                code="payload_missing",
            )
        # Streamed from the store to the model: a large payload is never held in memory.
        return self.objects.stream(job.input_location)

    async def call(self, model: ModelRuntime, job: Job) -> ModelReply:
        headers = {**model.headers, "Content-Type": "application/json", "X-Request-Id": job.id}
        if model.host:
            headers["Host"] = model.host
        try:
            body = await self._body(job)
            async with self.session.post(
                self.url(model, job), data=body, headers=headers, timeout=self.timeout(model)
            ) as resp:
                data = await self._read(resp)
                ctype = resp.headers.get("Content-Type", "application/json").split(";")[0].strip()
                if 200 <= resp.status < 300:
                    return ModelReply(body=data, content_type=ctype, status=resp.status)
                detail = data[:500].decode(errors="replace")
                raise ModelCallError(
                    f"model {model.name} answered HTTP {resp.status}: {detail}",
                    retryable=resp.status in RETRYABLE_STATUS,
                    status=resp.status,
                    code="model_rejected" if resp.status not in RETRYABLE_STATUS else "model_unavailable",
                )
        except ModelCallError:
            raise
        except ObjectNotFoundError as err:
            raise ModelCallError(
                f"input payload {err} disappeared", retryable=False, code="payload_missing"
            ) from err
        except TimeoutError as err:
            raise ModelCallError(
                f"model {model.name} gave no answer within {self.timeout(model).total:.0f}s "
                "(coldStart + generation budget)",
                retryable=True,
                code="model_timeout",
            ) from err
        except aiohttp.ClientError as err:
            raise ModelCallError(
                f"cannot reach model {model.name} at {model.upstream}: {type(err).__name__}: {err}",
                retryable=True,
                code="model_unreachable",
            ) from err

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > self.max_result_bytes:
                raise ModelCallError(
                    f"model answer exceeds queue.payloads.maxBytes ({self.max_result_bytes} bytes)",
                    retryable=False,
                    code="result_too_large",
                )
            chunks.append(chunk)
        return b"".join(chunks)
