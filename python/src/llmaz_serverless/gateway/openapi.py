"""GET /openapi.json: the gateway's API document (openapi.yaml beside this module).

The document is package data, checked in and reviewed like code; a unit test
keeps its paths equal to the routes the gateway registers.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

import yaml
from aiohttp import web

from llmaz_serverless.gateway.context import GatewayContext


@cache
def document() -> dict:
    return yaml.safe_load(files("llmaz_serverless.gateway").joinpath("openapi.yaml").read_text("utf-8"))


@cache
def _encoded() -> bytes:
    return json.dumps(document(), separators=(",", ":")).encode()


async def serve(_: web.Request) -> web.Response:
    return web.Response(body=_encoded(), content_type="application/json")


def setup(app: web.Application, ctx: GatewayContext) -> None:
    app.router.add_get("/openapi.json", serve)
    ctx.public_paths.add("/openapi.json")
