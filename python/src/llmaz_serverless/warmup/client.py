"""The warmup HTTP client: a few streamed completions of several lengths, under one deadline.

A freshly loaded model answers its first requests slowly (kernels compiled,
graphs captured, caches allocated for shapes never seen): 45x the steady-state
latency with no warmup, still ~3x for a prompt length never warmed (UPSTREAM.md).
So the client sends one request per configured (prompt tokens, max tokens) pair,
which exercises prefill at several lengths and decode, and streams each answer.

Failures are expected while a server is still coming up or being woken: connection
errors, 429 and 5xx are retried with exponential backoff and full jitter (honouring
`Retry-After`), other 4xx are not (a prompt longer than the model's context will
not get better). Everything runs under one deadline: a warmup must end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp

from llmaz_serverless.backoff import Backoff
from llmaz_serverless.openai_paths import generation
from llmaz_serverless.sse import SseDecoder
from llmaz_serverless.warmup.prompts import Prompt
from llmaz_serverless.warmup.settings import WarmupBackoff
from llmaz_serverless.warmup.streaming import StreamError, StreamStats

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Marks warmup traffic so a gateway or log reader can tell it from user traffic.
WARMUP_HEADER = "X-Llmaz-Serverless-Warmup"


@dataclass(frozen=True)
class RetryPolicy:
    """How often one warmup request is tried, and how long to wait in between."""

    attempts: int = 4
    backoff: Backoff = field(default_factory=WarmupBackoff)


@dataclass(frozen=True)
class Target:
    """Where warmup requests go: a pod's IP and port, or the interceptor with the route's Host."""

    base_url: str
    # The OpenAI `model` id the server answers to.
    model: str
    headers: Mapping[str, str] = field(default_factory=dict)
    path_prefix: str = ""

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{self.path_prefix.rstrip('/')}{path}"


@dataclass
class RequestResult:
    prompt_tokens_target: int
    max_tokens: int
    ok: bool = False
    attempts: int = 0
    status: int | None = None
    # Seconds from the start of the successful attempt to its first token and to its end.
    first_token_s: float | None = None
    total_s: float | None = None
    # Event-loop time the first token arrived (for the report's cold start).
    first_token_at: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None


@dataclass
class WarmupReport:
    ok: bool
    timed_out: bool
    duration_s: float
    results: list[RequestResult]
    health_wait_s: float | None = None
    error: str | None = None
    # Seconds from the start of the warmup to the first token of any request: through
    # the interceptor to a model at zero, the cold start a user would have waited.
    first_token_s: float | None = None

    @property
    def succeeded(self) -> int:
        return sum(1 for result in self.results if result.ok)

    def summary(self) -> str:
        """One line for an Event message or a log: what was sent and how it went."""
        parts = []
        for result in self.results:
            shape = f"{result.prompt_tokens_target}+{result.max_tokens}"
            if result.ok:
                ttft = f"{result.first_token_s:.2f}s" if result.first_token_s is not None else "n/a"
                parts.append(f"{shape} ok ttft={ttft} attempts={result.attempts}")
            else:
                parts.append(f"{shape} failed ({result.error})")
        head = f"{self.succeeded}/{len(self.results)} warmup requests ok in {self.duration_s:.1f}s"
        if self.timed_out:
            head += " (deadline reached)"
        if self.error:
            head += f": {self.error}"
        return head + ("; " + "; ".join(parts) if parts else "")


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class _Permanent(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def request_body(api: str, model: str, prompt: Prompt, stream: bool = True) -> dict[str, Any]:
    """The OpenAI request for one warmup prompt: greedy, streamed, usage reported."""
    body: dict[str, Any] = {"model": model, "max_tokens": prompt.max_tokens, "temperature": 0}
    if api == "chat":
        body["messages"] = [{"role": "user", "content": prompt.text}]
    elif api == "completions":
        body["prompt"] = prompt.text
    else:
        raise ValueError(f"warmup api must be 'completions' or 'chat', got {api!r}")
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class WarmupClient:
    """Sends warmup requests; one instance per process, shared by concurrent warmups."""

    def __init__(
        self,
        retry: RetryPolicy | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._session = session
        self._own_session = session is None
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def __aenter__(self) -> WarmupClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No total timeout here: every call sets its own from the deadline left.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def warm(
        self,
        target: Target,
        api: str,
        prompts: list[Prompt],
        deadline_s: float,
        *,
        health_path: str | None = None,
        attempt_timeout_s: float | None = None,
    ) -> WarmupReport:
        """Wait for health (if a path is given), then send every prompt in order, all within the deadline."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline_at = started + deadline_s
        results = [RequestResult(p.target_tokens, p.max_tokens) for p in prompts]
        health_wait: float | None = None
        if health_path:
            healthy = await self.wait_healthy(target, health_path, deadline_at)
            health_wait = loop.time() - started
            if not healthy:
                for result in results:
                    result.error = "not attempted: server never answered its health check"
                return WarmupReport(
                    ok=False,
                    timed_out=True,
                    duration_s=loop.time() - started,
                    results=results,
                    health_wait_s=health_wait,
                    error=f"{target.url(health_path)} did not answer 200 within {deadline_s:.0f}s",
                )
        timed_out = False
        for prompt, result in zip(prompts, results, strict=True):
            if loop.time() >= deadline_at:
                timed_out = True
                result.error = "not attempted: deadline reached"
                continue
            await self.complete(target, api, prompt, deadline_at, result, attempt_timeout_s=attempt_timeout_s)
            if not result.ok and loop.time() >= deadline_at:
                timed_out = True
        firsts = [result.first_token_at for result in results if result.first_token_at is not None]
        return WarmupReport(
            ok=all(result.ok for result in results),
            timed_out=timed_out,
            duration_s=loop.time() - started,
            results=results,
            health_wait_s=health_wait,
            first_token_s=min(firsts) - started if firsts else None,
        )

    async def wait_healthy(self, target: Target, path: str, deadline_at: float) -> bool:
        """Poll GET `path` until it answers 200 or the deadline passes."""
        loop = asyncio.get_running_loop()
        delays = self.retry.backoff.delays(self._rng)
        while True:
            remaining = deadline_at - loop.time()
            if remaining <= 0:
                return False
            try:
                async with asyncio.timeout(min(remaining, 10.0)):
                    async with self.session.get(target.url(path), headers=dict(target.headers)) as resp:
                        await resp.read()
                        if resp.status == 200:
                            return True
            except (aiohttp.ClientError, TimeoutError):
                pass
            # Polls stay at most 2s apart whatever the backoff: a pod turns healthy once.
            delay = min(next(delays), 2.0, max(deadline_at - loop.time(), 0.0))
            await self._sleep(delay)

    async def complete(
        self,
        target: Target,
        api: str,
        prompt: Prompt,
        deadline_at: float,
        result: RequestResult | None = None,
        *,
        attempt_timeout_s: float | None = None,
    ) -> RequestResult:
        """One warmup request with retries; fills and returns `result`."""
        loop = asyncio.get_running_loop()
        result = result or RequestResult(prompt.target_tokens, prompt.max_tokens)
        body = json.dumps(request_body(api, target.model, prompt)).encode()
        url = target.url(generation(api, "warmup api").path)
        while result.attempts < self.retry.attempts:
            remaining = deadline_at - loop.time()
            if remaining <= 0:
                last = f"; last: {result.error}" if result.error else ""
                result.error = f"deadline reached after {result.attempts} attempt(s){last}"
                return result
            timeout = remaining if attempt_timeout_s is None else min(remaining, attempt_timeout_s)
            result.attempts += 1
            sent = loop.time()
            try:
                async with asyncio.timeout(timeout):
                    stats = await self._send(url, target, body, sent)
            except _Permanent as err:
                result.status, result.error = err.status, str(err)
                return result
            except _Retryable as err:
                result.status, result.error = err.status, str(err)
                retry_after = err.retry_after
            except TimeoutError:
                result.status, result.error = None, f"no complete answer within {timeout:.1f}s"
                retry_after = None
            except (aiohttp.ClientError, StreamError) as err:
                result.status, result.error = None, f"{type(err).__name__}: {err}"
                retry_after = None
            else:
                end = loop.time()
                result.ok, result.status, result.error = True, 200, None
                result.first_token_s = stats.first_token_s
                result.total_s = end - sent
                if stats.first_token_s is not None:
                    result.first_token_at = sent + stats.first_token_s
                result.prompt_tokens = stats.prompt_tokens
                result.completion_tokens = stats.completion_tokens or stats.token_chunks
                return result
            if result.attempts >= self.retry.attempts:
                break
            delay = self.retry.backoff.delay(result.attempts, self._rng, retry_after)
            delay = min(delay, max(deadline_at - loop.time(), 0.0))
            log.debug("warmup request to %s failed (%s); retrying in %.2fs", url, result.error, delay)
            await self._sleep(delay)
        result.error = f"gave up after {result.attempts} attempt(s); last: {result.error}"
        return result

    async def _send(self, url: str, target: Target, body: bytes, sent: float) -> StreamStats:
        loop = asyncio.get_running_loop()
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream, application/json",
            "User-Agent": "llmaz-serverless-warmup",
            "X-Request-Id": f"warmup-{uuid.uuid4().hex[:16]}",
            WARMUP_HEADER: "1",
            **dict(target.headers),
        }
        async with self.session.post(url, data=body, headers=headers) as resp:
            if resp.status != 200:
                text = (await resp.text(errors="replace"))[:300]
                message = f"HTTP {resp.status} from {url}: {text.strip() or resp.reason}"
                if resp.status in RETRYABLE_STATUS:
                    raise _Retryable(message, resp.status, _retry_after(resp.headers.get("Retry-After")))
                raise _Permanent(message, resp.status)
            stats = StreamStats()
            if resp.content_type == "text/event-stream":
                decoder = SseDecoder()
                async for chunk in resp.content.iter_any():
                    now = loop.time() - sent
                    for payload in decoder.feed(chunk):
                        stats.add(payload, now)
                for payload in decoder.close():
                    stats.add(payload, loop.time() - sent)
                if not stats.done and stats.finish_reason is None:
                    # Cut off mid-way (server restarted, proxy dropped it): not a finished warmup.
                    raise _Retryable(f"stream from {url} ended before [DONE] ({stats.token_chunks} chunks)")
            else:
                # The server ignored `stream`: a whole JSON response still warms it.
                stats.add_body(await resp.json(content_type=None), loop.time() - sent)
            return stats
