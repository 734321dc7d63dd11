"""A webhook receiver that verifies our signatures: for users wiring their own
endpoint (see what we send, check the secret) and for the e2e tests.

POST <path>  records the delivery, answers 200 if the signature verifies,
             401 if it does not (so a wrong secret shows up as failed
             deliveries on the job status, as it would in production).
GET /received  the deliveries so far, as JSON, newest last.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from aiohttp import web

from llmaz_serverless.notify.signing import SIGNATURE_HEADER, verify

DELIVERIES: web.AppKey[list[dict[str, Any]]] = web.AppKey("deliveries", list)


def build_receiver(secret: bytes, path: str = "/hook", out: TextIO | None = sys.stdout) -> web.Application:
    app = web.Application()
    app[DELIVERIES] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        ok = verify(secret, body, request.headers.get(SIGNATURE_HEADER, ""))
        try:
            event: Any = json.loads(body)
        except ValueError:
            event = None
        record = {"signatureOk": ok, "event": event, "contentType": request.content_type}
        app[DELIVERIES].append(record)
        if out is not None:
            out.write(json.dumps(record) + "\n")
            out.flush()
        if not ok:
            return web.json_response({"error": f"bad or missing {SIGNATURE_HEADER}"}, status=401)
        return web.json_response({"received": True})

    async def received(_: web.Request) -> web.Response:
        return web.json_response(app[DELIVERIES])

    app.router.add_post(path, receive)
    app.router.add_get("/received", received)
    return app
