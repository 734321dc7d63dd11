"""One OpenAI request, timed: time to headers, first token, every inter-token gap.

Streaming responses are read as bytes arrive (`read1`, never a buffered
`iter_lines`), so a token's timestamp is when its chunk reached us, not when
a buffer filled. The parsing (`StreamParser`) is separate from the network
so it can be tested on exact byte sequences and timestamps.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from llmaz_serverless.loadtest.records import RequestRecord
from llmaz_serverless.openai_paths import CHAT, endpoint_of
from llmaz_serverless.sse import SseDecoder, chunk_error, openai_chunk

Clock = Callable[[], float]

# Header names shared with the gateway.
REQUEST_ID_HEADER = "X-Request-Id"
CACHE_HEADER = "X-Cache"


@dataclass
class StreamParser:
    """Consumes SSE bytes of an OpenAI stream and records when tokens arrived.

    The bytes become events in the package's one SSE decoder (llmaz_serverless.sse);
    a token is timed at the read that completed its event. One content-bearing
    chunk counts as one token step (vLLM and the emulator send one token per
    chunk); a final `usage` chunk, when present, gives the exact completion
    token count.
    """

    api: str
    token_times: list[float] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    error: str = ""
    done: bool = False
    _decoder: SseDecoder = field(default_factory=SseDecoder)

    def feed(self, data: bytes, now: float) -> None:
        for payload in self._decoder.feed(data):
            self._event(payload, now)

    def finish(self, now: float) -> None:
        for payload in self._decoder.close():
            self._event(payload, now)

    def _event(self, payload: str, now: float) -> None:
        try:
            event = openai_chunk(payload)
        except ValueError:
            # Quoted as bytes, as reports recorded before the shared decoder quote it.
            self.error = self.error or f"unparseable SSE data: {payload.strip().encode()[:80]!r}"
            return
        except TypeError:  # JSON but not an object: nothing a token could be counted from
            return
        if event is None:
            self.done = True
            return
        message = chunk_error(event)
        if message is not None:
            self.error = message
            return
        if event.get("usage"):
            self.usage = event["usage"]
        for choice in event.get("choices") or []:
            text = choice.get("delta", {}).get("content") if self.api == "chat" else choice.get("text")
            if text:
                self.token_times.append(now)
                break

    def inter_token_ms(self) -> list[float]:
        times = self.token_times
        return [(b - a) * 1000.0 for a, b in itertools.pairwise(times)]


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection"
    return type(exc).__name__


def send(
    session: requests.Session,
    base_url: str,
    path: str,
    body: dict[str, Any],
    record: RequestRecord,
    headers: dict[str, str] | None = None,
    connect_timeout: float = 10.0,
    timeout: float = 600.0,
    clock: Clock = time.perf_counter,
) -> RequestRecord:
    """Send `body` and fill `record` (timings, status, tokens, error). Never raises for network errors."""
    api = "chat" if endpoint_of(path) is CHAT else "completions"
    hdrs = {REQUEST_ID_HEADER: record.request_id, **(headers or {})}
    record.start = time.time()
    t0 = clock()
    deadline = t0 + timeout
    try:
        # The read timeout bounds the wait for the first byte, which includes a cold
        # start, so it is the whole request budget rather than a few seconds.
        resp = session.post(
            base_url.rstrip("/") + path,
            json=body,
            headers=hdrs,
            stream=True,
            timeout=(connect_timeout, timeout),
        )
    except requests.RequestException as exc:
        record.total_s = clock() - t0
        record.error, record.error_detail = _error_kind(exc), str(exc)[:300]
        return record
    with resp:
        record.ttfb_s = clock() - t0
        record.http_status = resp.status_code
        record.cache = resp.headers.get(CACHE_HEADER, "")
        try:
            if resp.status_code >= 400:
                record.error = f"http_{resp.status_code}"
                record.error_detail = resp.content[:300].decode("utf-8", "replace")
                record.total_s = clock() - t0
                return record
            if body.get("stream"):
                _read_stream(resp, api, record, t0, deadline, clock)
            else:
                _read_whole(resp, api, record)
        except requests.RequestException as exc:
            record.error, record.error_detail = _error_kind(exc), str(exc)[:300]
        except TimeoutError as exc:
            record.error, record.error_detail = "timeout", str(exc)
        record.total_s = clock() - t0
    if not record.error:
        record.outcome = "ok"
    return record


def _read_stream(
    resp: requests.Response, api: str, record: RequestRecord, t0: float, deadline: float, clock: Clock
) -> None:
    parser = StreamParser(api)
    raw = resp.raw
    while True:
        data = raw.read1(65536)
        now = clock()
        if not data:
            break
        parser.feed(data, now)
        if now > deadline:
            raise TimeoutError(f"stream still open after the {deadline - t0:.0f}s request budget")
    parser.finish(clock())
    if parser.token_times:
        record.ttft_s = parser.token_times[0] - t0
    record.itl_ms = parser.inter_token_ms()
    record.output_tokens = len(parser.token_times)
    if parser.usage:
        record.output_tokens = int(parser.usage.get("completion_tokens") or record.output_tokens)
        if parser.usage.get("prompt_tokens") is not None:
            record.server_prompt_tokens = int(parser.usage["prompt_tokens"])
    if parser.error:
        record.error, record.error_detail = "stream_error", parser.error[:300]
    elif not parser.token_times:
        record.error, record.error_detail = "bad_response", "stream ended without any token"


def _read_whole(resp: requests.Response, api: str, record: RequestRecord) -> None:
    try:
        data = resp.json()
    except ValueError:
        record.error, record.error_detail = "bad_response", resp.text[:300]
        return
    usage = data.get("usage") or {}
    choices = data.get("choices") or []
    if not choices:
        record.error, record.error_detail = "bad_response", "no choices in the response"
        return
    record.output_tokens = int(usage.get("completion_tokens") or 0)
    if usage.get("prompt_tokens") is not None:
        record.server_prompt_tokens = int(usage["prompt_tokens"])
