"""`gateway.eventLoop`: which loop the gateway process and the in-process server run on."""

import asyncio
import sys

import pytest
import uvloop

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.server import loop_factory
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless_testing.appservers import GatewayServer


def _loop_type(settings: GatewaySettings) -> type:
    loop = loop_factory(settings)()
    try:
        return type(loop)
    finally:
        loop.close()


def test_uvloop_by_default_and_the_standard_loop_on_request():
    assert _loop_type(GatewaySettings()) is uvloop.Loop
    standard = _loop_type(GatewaySettings(event_loop="asyncio"))
    assert standard is not uvloop.Loop
    assert issubclass(standard, asyncio.BaseEventLoop)


def test_a_missing_uvloop_is_a_config_error_naming_the_setting_and_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    with pytest.raises(ValueError, match=r"gateway\.eventLoop is uvloop.*set gateway\.eventLoop: asyncio"):
        loop_factory(GatewaySettings())
    assert loop_factory(GatewaySettings(event_loop="asyncio")) is asyncio.new_event_loop


def test_an_unknown_loop_name_is_refused():
    with pytest.raises(ValueError, match=r"event_loop|eventLoop"):
        GatewaySettings.model_validate({"eventLoop": "trio"})


@pytest.mark.parametrize("name", ["uvloop", "asyncio"])
def test_the_in_process_gateway_serves_on_the_configured_loop(name):
    settings = GatewaySettings(
        host="127.0.0.1", port=0, shutdown_delay=0, shutdown_timeout=5, event_loop=name
    )
    with GatewayServer(RuntimeConfig(), settings) as gw:
        assert gw._loop is not None
        assert (type(gw._loop) is uvloop.Loop) == (name == "uvloop")
