"""The OpenAI proxy: route by model, wait out cold starts, fail over, stream, cache.

POST /v1/completions, /v1/chat/completions, /v1/embeddings (and the same
under each model's `pathPrefix`). The upstream request goes over the
gateway's keep-alive pool (`upstream.py`). Until response headers arrive, the
request may be held for the model's whole budget (`timeouts.coldStart +
timeouts.responseHeader`): connection errors and 502/503 answers (a server
still loading, a pod gone) are retried with backoff inside that budget; on
expiry, or on a 504 from the interceptor (its own hold ran out), the request
goes to the model's `failover` model if set, else gets 503 with
`Retry-After`. Once headers arrive the answer is relayed as it comes: each
piece of an SSE stream is written to the client from the upstream
connection's `data_received`, with no buffering and no task hop in between. A
client that disconnects cancels its handler, which closes the upstream
connection, so the model server aborts the generation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.http_writer import StreamWriter

from llmaz_serverless.gateway.cache import (
    BYPASS,
    OPT_IN_HEADER,
    CacheDecision,
    CachedResponse,
    cache_key,
    decide,
)
from llmaz_serverless.gateway.context import LOG_FIELDS, RECEIVED_AT, REQUEST_ID, GatewayContext
from llmaz_serverless.gateway.errors import error_body, openai_error
from llmaz_serverless.gateway.routing import Route
from llmaz_serverless.gateway.upstream import UpstreamCut, UpstreamError, UpstreamResponse
from llmaz_serverless.openai_paths import CACHEABLE_PATHS, PROXIED_PATHS

log = logging.getLogger("llmaz_serverless.gateway.proxy")

# Never forwarded upstream: hop-by-hop headers, and those the gateway sets itself.
_DROP_REQUEST = frozenset(
    h.lower()
    for h in (
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Accept-Encoding", "Expect",
    )
)  # fmt: skip
_DROP_REQUEST_AUTH = _DROP_REQUEST | {"authorization"}
_DROP_RESPONSE = frozenset(
    h.lower() for h in ("Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Date", "Server")
)
_RETRY_STATUSES = frozenset({502, 503})
_SSE = "text/event-stream"
FAILOVER_HEADER = "X-Gateway-Failover-From"
# request key of a stream response already sent to the client
_STARTED = web.RequestKey("gateway_stream_started", web.StreamResponse)


def setup(app: web.Application, ctx: GatewayContext) -> None:
    for path in PROXIED_PATHS:
        app.router.add_post(path, handle)
    for prefix in ctx.routes.prefixes:
        for path in PROXIED_PATHS:
            app.router.add_post(prefix + path, handle)


def _split_path(path: str) -> tuple[str, str]:
    """(model path prefix or "", OpenAI path) of a request path the router sent here."""
    for api_path in PROXIED_PATHS:
        if path.endswith(api_path):
            return path[: -len(api_path)], api_path
    raise web.HTTPNotFound()


async def handle(request: web.Request) -> web.StreamResponse:
    ctx = GatewayContext.of(request)
    settings = ctx.settings
    prefix, api_path = _split_path(request.path)

    length = request.content_length
    if length is not None and length > settings.max_body_bytes:
        return _too_large(settings.max_body_bytes)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _too_large(settings.max_body_bytes)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        return openai_error(400, f"The request body is not valid JSON: {err}.", code="invalid_json")
    if not isinstance(body, dict):
        return openai_error(400, "The request body must be a JSON object.", code="invalid_json")

    name = body.get("model")
    if prefix:
        route = ctx.routes.by_prefix(prefix)
        assert route is not None  # the router only sends configured prefixes here
        if name is None:
            body["model"] = name = route.name
            raw = json.dumps(body).encode()
        elif name != route.name:
            return openai_error(
                400,
                f"The path {request.path} is model {route.name}'s, but the body names model {name!r}; "
                f"send it to {api_path} or drop the body's model.",
                code="model_mismatch",
                param="model",
            )
    else:
        if not isinstance(name, str) or not name:
            return openai_error(
                400, "Missing required parameter 'model' (a string naming the model).", param="model"
            )
        route = ctx.routes.get(name)
        if route is None:
            known = ", ".join(ctx.routes.names) or "(none configured)"
            return openai_error(
                404,
                f"The model `{name}` does not exist. Known models: {known}.",
                code="model_not_found",
                param="model",
            )
    request[LOG_FIELDS]["model"] = route.name

    decision, key, cached = BYPASS, "", None
    if api_path in CACHEABLE_PATHS:
        decision, key, cached = await _consult_cache(request, ctx, route, api_path, body)
        if cached is not None:
            return cached

    deadline = route.model.timeouts.request
    in_flight = ctx.metrics.in_flight.labels(route.name)
    in_flight.inc()
    try:
        async with asyncio.timeout(deadline):
            return await _forward(request, ctx, route, api_path, raw, body, decision, key)
    except TimeoutError:
        started = request.get(_STARTED)
        if started is not None:
            # Mid-stream: the status is sent already; end the stream where it is.
            request[LOG_FIELDS]["cut"] = "request deadline"
            return started
        return openai_error(
            504,
            f"Model {route.name} did not finish within its request deadline of {deadline}s "
            f"(models[{route.name}].timeouts.request).",
            code="request_timeout",
        )
    finally:
        in_flight.dec()


async def _consult_cache(
    request: web.Request, ctx: GatewayContext, route: Route, api_path: str, body: dict[str, Any]
) -> tuple[CacheDecision, str, web.StreamResponse | None]:
    """The cache's part of a cacheable request: (decision, key, the cached answer on a hit)."""
    settings = ctx.settings
    opt = request.headers.get(OPT_IN_HEADER)
    if opt is not None and opt.strip().lower() not in ("on", "off"):
        # A typo must not silently turn caching off (or leave a sampled answer uncached).
        error = openai_error(
            400, f"Header {OPT_IN_HEADER} is {opt!r}; send `on`, `off`, or leave it out.",
            code="invalid_header", param=OPT_IN_HEADER,
        )  # fmt: skip
        return BYPASS, "", error
    decision = decide(request.headers, body, route.model.cache, settings.cache)
    key = ""
    if decision.store:
        scope = (ctx.auth.key_of(request) or "") if settings.cache.scope_by_api_key else ""
        key = cache_key(settings.cache.key_prefix, api_path, body, scope)
    if decision.lookup:
        found = await ctx.cache.lookup(key)
        if found is not None:
            hit, tier = found
            ctx.metrics.cache_hits.labels(route.name, tier).inc()
            request[LOG_FIELDS]["cache"] = "HIT"
            request[LOG_FIELDS]["cache_tier"] = tier
            answer = web.Response(body=hit.body, headers={"Content-Type": hit.content_type, "X-Cache": "HIT"})
            return decision, key, answer
    if decision.store:
        ctx.metrics.cache_misses.labels(route.name).inc()
    request[LOG_FIELDS]["cache"] = decision.label
    return decision, key, None


def _too_large(limit: int) -> web.Response:
    return openai_error(
        413,
        f"The request body is larger than the gateway's limit of {limit} bytes (gateway.maxBodyBytes); "
        "send large payloads by reference through the async API.",
        code="request_too_large",
    )


def _upstream_headers(request: web.Request, ctx: GatewayContext, route: Route) -> dict[str, str]:
    # With gateway auth on, the client's gateway key is not the model's business.
    drop = _DROP_REQUEST_AUTH if ctx.auth.enabled else _DROP_REQUEST
    headers = {k: v for k, v in request.headers.items() if k.lower() not in drop}
    headers.update(route.headers)
    headers[ctx.settings.request_id_header] = request[REQUEST_ID]
    # Uncompressed answers, so streams pass through as they come and cache entries replay to anyone.
    headers["Accept-Encoding"] = "identity"
    return headers


async def _open(
    ctx: GatewayContext, route: Route, api_path: str, raw: bytes, headers: dict[str, str]
) -> tuple[UpstreamResponse | None, str]:
    """The upstream response once its headers arrive, or (None, why) when the budget ran out."""
    loop = asyncio.get_running_loop()
    budget = route.header_budget
    deadline = loop.time() + budget
    delays = ctx.settings.upstream.backoff.delays()
    url = route.url(api_path)
    errors = ctx.metrics.upstream_errors
    why = f"no response headers within {budget:g}s"
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None, why
        try:
            async with asyncio.timeout(remaining):
                resp = await ctx.upstream.post(url, raw, headers)
        except TimeoutError:
            errors.labels(route.name, "timeout").inc()
            return None, f"no response headers within {budget:g}s"
        except UpstreamError as err:
            errors.labels(route.name, "connect").inc()
            why = f"upstream {route.base_url} unreachable: {err}"
        else:
            if resp.status == 504:
                # The interceptor's own hold (readiness) or responseHeader timeout ran out.
                errors.labels(route.name, "status_504").inc()
                resp.close()
                return None, "the interceptor timed out waiting for the model (504)"
            if resp.status not in _RETRY_STATUSES:
                return resp, ""
            errors.labels(route.name, f"status_{resp.status}").inc()
            resp.close()
            why = f"upstream answered {resp.status} (model starting or unavailable)"
        delay = min(next(delays), deadline - loop.time())
        if delay <= 0:
            return None, why
        await asyncio.sleep(delay)


async def _forward(
    request: web.Request,
    ctx: GatewayContext,
    route: Route,
    api_path: str,
    raw: bytes,
    body: dict[str, Any],
    decision: CacheDecision,
    key: str,
) -> web.StreamResponse:
    loop = asyncio.get_running_loop()
    metrics = ctx.metrics
    started = loop.time()
    headers = _upstream_headers(request, ctx, route)
    metrics.overhead.labels(route.name).observe(time.perf_counter() - request[RECEIVED_AT])
    resp, why = await _open(ctx, route, api_path, raw, headers)
    served_by = route
    if resp is None:
        metrics.cold_start_timeouts.labels(route.name).inc()
        failover = ctx.routes.get(route.model.failover) if route.model.failover else None
        if failover is not None:
            metrics.failovers.labels(route.name, failover.name).inc()
            request[LOG_FIELDS]["failover"] = failover.name
            log.warning(
                "model %s unavailable (%s); failing over to %s", route.name, why, failover.name,
                extra={"request_id": request[REQUEST_ID], "model": route.name},
            )  # fmt: skip
            fo_raw = json.dumps({**body, "model": failover.name}).encode()
            started = loop.time()
            resp, fo_why = await _open(
                ctx, failover, api_path, fo_raw, _upstream_headers(request, ctx, failover)
            )
            served_by = failover
            why = f"{why}; failover {failover.name}: {fo_why}"
        if resp is None:
            retry_after = route.model.retry_after
            return openai_error(
                503,
                f"Model {route.name} is not available yet ({why}); it may be scaling from zero. "
                f"Retry after {retry_after}s.",
                code="model_unavailable",
                headers={"Retry-After": str(retry_after)},
            )
    metrics.upstream_wait.labels(served_by.name).observe(loop.time() - started)
    request[LOG_FIELDS]["upstream_status"] = resp.status
    try:
        out = await _relay(request, ctx, resp, route, served_by, api_path, decision, key)
    except BaseException:
        resp.close()  # mid-answer: drop the connection so the model stops generating
        raise
    resp.release()
    return out


async def _relay(
    request: web.Request,
    ctx: GatewayContext,
    resp: UpstreamResponse,
    route: Route,
    served_by: Route,
    api_path: str,
    decision: CacheDecision,
    key: str,
) -> web.StreamResponse:
    headers = {k: v for k, v in resp.headers.items() if k.lower() not in _DROP_RESPONSE}
    if api_path in CACHEABLE_PATHS:
        headers["X-Cache"] = decision.label
    if served_by is not route:
        headers[FAILOVER_HEADER] = route.name
    # Only a complete 200 answer of the model that was asked for is stored.
    store = decision.store and resp.status == 200 and served_by is route
    limit = ctx.settings.cache.max_entry_bytes
    content_type = resp.headers.get("Content-Type", "")

    if content_type.startswith(_SSE):
        out = web.StreamResponse(status=resp.status, headers=headers)
        writer = await out.prepare(request)
        assert writer is not None  # prepare() of a new response always returns its writer
        request[_STARTED] = out
        stream = _SseRelay(request, out, writer, limit if store else -1)
        resp.stream(stream.send, stream.end)
        try:
            while not await resp.wait():  # False: the client is slow to read
                if stream.client_gone:
                    raise ConnectionResetError("the client closed the connection mid-stream")
                await writer.drain()  # aiohttp.abc.AbstractStreamWriter's
                resp.resume()
        except UpstreamCut as err:
            # The model went away mid-stream (pod killed, connection reset). The
            # status is sent already: end the stream with an error event, as
            # vLLM does for errors inside a stream, and never cache it.
            _upstream_cut(request, ctx, served_by, err)
            await out.write(
                b"data: " + error_body(502, _cut_message(served_by, err), "upstream_cut") + b"\n\n"
            )
            stream.parts = None
        await out.write_eof()
        if stream.parts is not None:
            await _store(ctx, route, key, CachedResponse(content_type, b"".join(stream.parts)))
        return out

    try:
        data = await resp.read()
    except UpstreamCut as err:
        _upstream_cut(request, ctx, served_by, err)
        return openai_error(502, _cut_message(served_by, err), code="upstream_cut")
    out = web.Response(status=resp.status, body=data, headers=headers)
    if store and len(data) <= limit:
        # Answer first, then store: the client never waits for Redis on a miss.
        await out.prepare(request)
        await out.write_eof()
        await _store(ctx, route, key, CachedResponse(content_type, data))
    return out


class _SseRelay:
    """Writes each stream piece to the client as it arrives (called from the upstream's data_received).

    Pieces go straight to the client's transport, chunk-framed when the
    response is chunked (aiohttp frames a body of unknown length so for
    every HTTP/1.1 client and says so in the head it sent), which is what
    aiohttp's writer would send, without a task wake-up per token. Keeps a
    copy for the cache while the answer stays within `limit` bytes (-1: no
    copy).
    """

    def __init__(self, request: web.Request, out: web.StreamResponse, writer: object, limit: int) -> None:
        self.transport = request.transport
        self.chunked = out.headers.get("Transfer-Encoding") == "chunked"
        # The one use of aiohttp internals in the gateway: `StreamWriter.set_eof()`
        # (aiohttp.http_writer, not aiohttp's documented API) writes the closing
        # chunk from `end` and marks the body as ended, so the handler's `write_eof`
        # sends nothing more. The public way, the closing chunk from `write_eof`,
        # waits for the handler task to wake up after the upstream's body ended. In
        # two same-run comparisons on a loaded host (bench_gateway.py --baseline,
        # docs/benchmarks/gateway.md, the llhttp section) that added +1.52 and
        # +2.82 ms to the total p50 of a stream (their p99s moved both ways, with the load).
        # Without a StreamWriter (another aiohttp writer) `write_eof` does it.
        self.set_eof = writer.set_eof if isinstance(writer, StreamWriter) else None
        self.high_water = self.transport.get_write_buffer_limits()[1] if self.transport else 0
        self.parts: list[bytes] | None = [] if limit >= 0 else None
        self.limit = limit
        self.size = 0
        self.client_gone = False

    def send(self, piece: bytes) -> bool:
        """Relay one piece; True asks the upstream to stop reading (client gone or slow)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            self.client_gone = True
            return True
        transport.write(b"%x\r\n%b\r\n" % (len(piece), piece) if self.chunked else piece)
        if self.parts is not None:
            self.size += len(piece)
            if self.size > self.limit:
                self.parts = None
            else:
                self.parts.append(piece)
        return transport.get_write_buffer_size() > self.high_water

    def end(self) -> None:
        """The upstream's body is complete: end the client's stream now, not a task wake-up later."""
        transport = self.transport
        if self.set_eof is not None and transport is not None and not transport.is_closing():
            self.set_eof()  # writes the closing chunk if chunked; the handler's write_eof sends nothing


def _cut_message(route: Route, err: BaseException) -> str:
    return (
        f"Model {route.name} closed the connection in the middle of its answer ({type(err).__name__}); retry."
    )


def _upstream_cut(request: web.Request, ctx: GatewayContext, route: Route, err: BaseException) -> None:
    ctx.metrics.upstream_errors.labels(route.name, "disconnect").inc()
    request[LOG_FIELDS]["upstream_cut"] = repr(err)


async def _store(ctx: GatewayContext, route: Route, key: str, entry: CachedResponse) -> None:
    if await ctx.cache.put(key, entry):
        ctx.metrics.cache_stores.labels(route.name).inc()
