"""The checked-in OpenAPI document describes exactly the routes the gateway serves."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.app import build_app
from llmaz_serverless.gateway.openapi import document
from llmaz_serverless.gateway.settings import GatewaySettings

RUNTIME = RuntimeConfig.model_validate(
    {"models": [{"name": "m", "playground": "p", "upstream": "http://127.0.0.1:9"}]}
)


def served_routes() -> set[tuple[str, str]]:
    app = build_app(RUNTIME, GatewaySettings())
    routes = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        path = route.resource.canonical if route.resource else ""
        routes.add((route.method.lower(), re.sub(r"\{([^}:]+)(:[^}]*)?\}", r"{\1}", path)))
    return routes


def documented_routes() -> set[tuple[str, str]]:
    return {(method, path) for path, item in document()["paths"].items() for method in item}


def test_document_is_valid_openapi():
    validate(document())


def test_every_served_route_is_documented_and_every_documented_route_is_served():
    served, documented = served_routes(), documented_routes()
    assert served - documented == set(), "routes the gateway serves that openapi.yaml does not describe"
    assert documented - served == set(), "routes openapi.yaml describes that the gateway does not serve"


async def test_gateway_serves_the_document_without_an_api_key():
    settings = GatewaySettings.model_validate({"auth": {"enabled": True, "keysEnv": "TEST_KEYS"}})
    app = build_app(RUNTIME, settings, environ={"TEST_KEYS": "k"})
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/openapi.json")
        assert response.status == 200
        assert (await response.json())["paths"].keys() == document()["paths"].keys()
        assert (await client.get("/v1/models")).status == 401
