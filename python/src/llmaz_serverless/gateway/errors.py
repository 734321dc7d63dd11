"""Errors in the OpenAI API's shape, so OpenAI client libraries surface them as-is.

    {"error": {"message": "...", "type": "invalid_request_error",
               "param": "model", "code": "model_not_found"}}

Route modules (async API, events API) use `openai_error` too, so every error
a client of the gateway sees has one shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web

# OpenAI's error `type` for each status family the gateway answers with.
_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(status: int, message: str, code: str | None = None, param: str | None = None,
               err_type: str | None = None) -> bytes:  # fmt: skip
    err = {
        "message": message,
        "type": err_type
        or _TYPE_BY_STATUS.get(status, "server_error" if status >= 500 else "invalid_request_error"),
        "param": param,
        "code": code,
    }
    return json.dumps({"error": err}).encode()


def openai_error(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    err_type: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """An error response; `message` should say what was wrong and how to fix it."""
    return web.Response(
        status=status,
        body=error_body(status, message, code, param, err_type),
        content_type="application/json",
        headers=headers,
    )
