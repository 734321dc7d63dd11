"""The locust side of a trace replay: one dispatcher user sends every arrival open loop.

Imported only inside the locust process (through loadtest/scenarios/90_trace.py). The dispatcher
sleeps until each recorded time (measured from when it starts, which is the test's start) and
spawns a greenlet per request, so a slow or cold answer never delays the next arrival; each
request asks for the recorded prompt and output token counts. The shape ends the test once
every answer is in (or at the profile's max_time).
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import gevent
import gevent.pool
import requests
from locust import LoadTestShape, User, constant, task

from llmaz_serverless.loadtest import users
from llmaz_serverless.loadtest.client import send
from llmaz_serverless.loadtest.prompts import prompt_text, request_body
from llmaz_serverless.loadtest.records import RequestRecord, append_request
from llmaz_serverless.trace.formats import read_trace

PROFILE = users.PROFILE
TRACE = read_trace(PROFILE.shape_params["trace_file"])
_STATE: dict[str, Any] = {"done": False}


class TraceReplayUser(User):
    """The single dispatcher: arrivals at their times, each request in its own greenlet."""

    wait_time = constant(3600)
    fixed_count = 1

    def on_start(self) -> None:
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=256)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.rng = random.Random(PROFILE.seed)

    def _one(self, prompt_tokens: int, output_tokens: int) -> None:
        api = "chat" if PROFILE.api == "async" else PROFILE.api
        if api == "mixed":
            api = self.rng.choice(("chat", "completions"))
        record = RequestRecord(
            request_id=uuid.uuid4().hex, kind=api, model=PROFILE.model, stream=PROFILE.stream,
            start=time.time(), prompt_tokens=prompt_tokens, max_tokens=output_tokens,
        )  # fmt: skip
        path, body = request_body(
            api, PROFILE.model, prompt_text(prompt_tokens, self.rng), output_tokens, record.stream,
            PROFILE.temperature,
        )  # fmt: skip
        assert self.host, "set the target with --host"
        send(self.session, self.host, path, body, record, PROFILE.headers, timeout=PROFILE.request_timeout)
        append_request(users._APPENDER, record)
        self.environment.events.request.fire(
            request_type="POST", name=f"trace {api}", response_time=(record.total_s or 0.0) * 1000.0,
            response_length=record.output_tokens, context={},
            exception=None if record.outcome == "ok" else RuntimeError(record.error),
        )  # fmt: skip

    @task
    def replay(self) -> None:
        if _STATE.get("started"):
            return
        _STATE["started"] = start = time.time()
        pool = gevent.pool.Pool()
        for a in TRACE.arrivals:
            delay = start + a.t - time.time()
            if delay > 0:
                gevent.sleep(delay)
            pool.spawn(self._one, max(1, a.prompt_tokens or 1), max(1, a.output_tokens or 1))
        pool.join()
        _STATE["done"] = True


class TraceShape(LoadTestShape):
    """One user until the replay is done or the profile's max_time passes."""

    def tick(self) -> tuple[int, float] | None:
        if _STATE["done"]:
            return None
        # The ignore: locust 2.47 ships py.typed but leaves LoadTestShape.get_run_time unannotated.
        if PROFILE.max_time is not None and self.get_run_time() >= PROFILE.max_time:  # type: ignore[no-untyped-call]
            return None
        return 1, 1.0
