"""The timed client against the real emulator on loopback."""

from __future__ import annotations

import statistics
import uuid

import pytest
import requests

from llmaz_serverless.launcher import free_port
from llmaz_serverless.loadtest.client import send
from llmaz_serverless.loadtest.localstack import LocalModelOptions
from llmaz_serverless.loadtest.prompts import prompt_text, request_body
from llmaz_serverless.loadtest.records import RequestRecord
from llmaz_serverless_testing.appservers import EmulatorServer

pytestmark = pytest.mark.integration


def _record(stream: bool = True) -> RequestRecord:
    return RequestRecord(uuid.uuid4().hex, "chat", "m", stream, 0.0)


@pytest.fixture(scope="module")
def sim() -> EmulatorServer:
    with EmulatorServer(model="m", ttft=0.05, itl=0.02) as server:
        yield server


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_stream_timings_follow_the_server_pace_when_streaming(sim: EmulatorServer, api: str) -> None:
    import random

    path, body = request_body(api, "m", prompt_text(32, random.Random(1)), 10, True, 0.7)
    with requests.Session() as session:
        record = send(session, sim.url, path, body, _record())
    assert record.outcome == "ok", record.error_detail
    assert record.http_status == 200
    assert record.output_tokens == 10  # from the usage chunk
    assert record.server_prompt_tokens and record.server_prompt_tokens > 0
    assert 0.04 <= record.ttft_s <= 0.5
    assert len(record.itl_ms) == 9
    assert 15 <= statistics.median(record.itl_ms) <= 60
    assert record.total_s >= record.ttft_s >= record.ttfb_s


def test_non_streamed_answer_reports_tokens_when_not_streaming(sim: EmulatorServer) -> None:
    path, body = request_body("completions", "m", "hello there", 5, False, 0.0)
    with requests.Session() as session:
        record = send(session, sim.url, path, body, _record(stream=False))
    assert record.outcome == "ok"
    assert record.output_tokens == 5
    assert record.ttft_s is None and record.itl_ms == []


def test_http_error_is_recorded_with_its_status_when_model_is_unknown(sim: EmulatorServer) -> None:
    path, body = request_body("chat", "no-such-model", "hi", 5, True, 0.7)
    with requests.Session() as session:
        record = send(session, sim.url, path, body, _record())
    assert (record.outcome, record.error, record.http_status) == ("error", "http_404", 404)
    assert "does not exist" in record.error_detail


def test_connection_error_is_recorded_when_nothing_listens() -> None:
    path, body = request_body("chat", "m", "hi", 5, True, 0.7)
    with requests.Session() as session:
        record = send(session, f"http://127.0.0.1:{free_port()}", path, body, _record(), timeout=5)
    assert (record.outcome, record.error) == ("error", "connection")


def test_request_held_through_a_load_waits_the_startup_delay_when_model_is_at_zero() -> None:
    with EmulatorServer(
        model="m", startup_delay=0.6, hold_while_loading=True, ttft=0.01, itl=0.005
    ) as server:
        path, body = request_body("chat", "m", "hi", 3, True, 0.7)
        with requests.Session() as session:
            record = send(session, server.url, path, body, _record())
    assert record.outcome == "ok"
    assert record.ttfb_s >= 0.4


def test_local_model_options_are_accepted_by_the_sim_command_when_rendered() -> None:
    from llmaz_serverless.cli import build_parser

    args = build_parser().parse_args(["sim", *LocalModelOptions().sim_args(8000)])
    assert args.func is not None
