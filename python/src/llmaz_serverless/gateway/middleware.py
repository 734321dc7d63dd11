"""The one middleware every gateway route runs behind.

In order: request id (client's header if sane, else a new one), API-key auth
unless the path is public, the handler, then OpenAI-shaped errors for what
the handler raised, request metrics by model and status, and one JSON access
log line. A client that hung up is logged with status 499.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time

from aiohttp import web

from llmaz_serverless.gateway.context import CONTEXT_KEY, LOG_FIELDS, RECEIVED_AT, REQUEST_ID
from llmaz_serverless.gateway.errors import openai_error
from llmaz_serverless.gateway.metrics import NO_MODEL

access_log = logging.getLogger("llmaz_serverless.gateway.access")
log = logging.getLogger("llmaz_serverless.gateway")

CLIENT_CLOSED = 499  # nginx's code for "the client closed the connection first"
_MAX_REQUEST_ID = 128


# New ids: 16 random hex digits drawn once per process, then a counter (32
# hex digits, like a uuid4's hex). Unique across replicas without a random
# draw (a getrandom syscall) on every request.
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(1)


def _request_id(value: str | None) -> str:
    # A client's id is kept only when it is short and printable, so it can't forge log lines.
    if value and len(value) <= _MAX_REQUEST_ID and value.isprintable():
        return value
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


@web.middleware
async def gateway_middleware(request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    ctx = request.app[CONTEXT_KEY]
    request[REQUEST_ID] = _request_id(request.headers.get(ctx.settings.request_id_header))
    fields: dict[str, object] = {}
    request[LOG_FIELDS] = fields
    public = request.path in ctx.public_paths
    start = request[RECEIVED_AT] = time.perf_counter()
    status = 500
    try:
        if not public:
            denied = ctx.auth.check(request)
            if denied is not None:
                status = denied.status
                return denied
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        if status < 400:
            raise
        if status == 404:
            message = f"No route for {request.method} {request.path}; see /v1/models for the models served."
        elif status == 405:
            message = f"{request.method} is not allowed on {request.path}."
        elif status == 413:
            message = (
                f"The request body is larger than the gateway's limit of {ctx.settings.max_body_bytes} bytes."
            )
        else:
            message = exc.text or exc.reason
        return openai_error(status, message, headers={k: v for k, v in exc.headers.items() if k == "Allow"})
    except (asyncio.CancelledError, ConnectionResetError):
        status = CLIENT_CLOSED
        raise
    except Exception:
        log.exception("unhandled error", extra={"request_id": request[REQUEST_ID], "path": request.path})
        return openai_error(500, f"Internal gateway error (request id {request[REQUEST_ID]}).")
    finally:
        duration = time.perf_counter() - start
        if not public:
            model = str(fields.get("model", NO_MODEL))
            ctx.metrics.requests.labels(model, str(status)).inc()
            ctx.metrics.duration.labels(model).observe(duration)
        if ctx.settings.access_log:
            access_log.info(
                "request",
                extra={
                    "request_id": request[REQUEST_ID],
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    **fields,
                },
            )


async def stamp_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: every answer, streams included, carries the request id."""
    rid = request.get(REQUEST_ID)
    if rid is not None:
        response.headers[request.app[CONTEXT_KEY].settings.request_id_header] = rid
