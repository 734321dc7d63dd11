"""Locust user and shape classes. Imported only inside the locust process.

Locustfiles (`loadtest/locustfile.py`, `loadtest/scenarios/NN_<shape>.py`)
import `OpenAIUser` and build a shape with `shape_class()`. Every request is
appended to `RUN_DIR/requests.csv` with its full timing, and reported to
locust's own statistics too (so locust's CSV and console work as usual).
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from locust import LoadTestShape, User, constant_throughput, events, task

from llmaz_serverless.loadtest import catalog, shapes
from llmaz_serverless.loadtest.async_client import run_async_job
from llmaz_serverless.loadtest.client import send
from llmaz_serverless.loadtest.distributions import parse_length
from llmaz_serverless.loadtest.profile import load_profile
from llmaz_serverless.loadtest.prompts import prompt_text, request_body
from llmaz_serverless.loadtest.records import (
    LOCUST_TIMES_JSON,
    REQUEST_COLUMNS,
    REQUESTS_CSV,
    SCHEDULE_JSON,
    CsvAppender,
    RequestRecord,
    append_request,
)

PROFILE = load_profile()
_RUN_DIR = Path(PROFILE.run_dir or ".")
_RUN_DIR.mkdir(parents=True, exist_ok=True)
_APPENDER = CsvAppender(_RUN_DIR / REQUESTS_CSV, REQUEST_COLUMNS)
_PROMPT_LEN = parse_length(PROFILE.prompt_tokens)
_OUTPUT_LEN = parse_length(PROFILE.output_tokens)
_USER_IDS = itertools.count()


class OpenAIUser(User):
    """Sends OpenAI chat/completions (or async jobs) as the profile says, paced per user."""

    wait_time = constant_throughput(PROFILE.user_rps)

    def on_start(self) -> None:
        self.session = requests.Session()
        self.rng = random.Random(f"{PROFILE.seed}-{next(_USER_IDS)}")

    def on_stop(self) -> None:
        self.session.close()

    @task
    def infer(self) -> None:
        api = PROFILE.api
        if api == "mixed":
            api = self.rng.choice(("chat", "completions"))
        prompt_tokens = _PROMPT_LEN.sample(self.rng)
        max_tokens = _OUTPUT_LEN.sample(self.rng)
        prompt = prompt_text(prompt_tokens, self.rng)
        record = RequestRecord(
            request_id=uuid.uuid4().hex,
            kind=api,
            model=PROFILE.model,
            stream=PROFILE.stream and api != "async",
            start=time.time(),
            prompt_tokens=prompt_tokens,
            max_tokens=max_tokens,
        )
        assert self.host, "set the target with --host"
        if api == "async":
            _path, body = request_body("chat", PROFILE.model, prompt, max_tokens, False, PROFILE.temperature)
            run_async_job(self.session, self.host, body, record, PROFILE.async_, PROFILE.headers)
        else:
            path, body = request_body(
                api, PROFILE.model, prompt, max_tokens, record.stream, PROFILE.temperature
            )
            send(
                self.session, self.host, path, body, record, PROFILE.headers, timeout=PROFILE.request_timeout
            )
        append_request(_APPENDER, record)
        self.environment.events.request.fire(
            request_type="POST",
            name=f"{api}{' stream' if record.stream else ''}",
            response_time=(record.total_s or 0.0) * 1000.0,
            response_length=record.output_tokens,
            exception=None if record.outcome == "ok" else RuntimeError(record.error),
            context={},
        )


class ScheduleShape(LoadTestShape):
    """Drives the user count from a `shapes.Schedule`; subclasses set `kind` and `defaults`."""

    abstract = True
    kind = "steady"
    defaults: dict[str, Any] = {}

    def __init__(self) -> None:
        # locust 2.47 ships py.typed but leaves LoadTestShape's __init__ and get_run_time
        # unannotated; untyped_calls_exclude in pyproject.toml cannot reach them, as mypy names
        # calls through self and super() after this subclass.
        super().__init__()  # type: ignore[no-untyped-call]
        params = {**self.defaults, **PROFILE.shape_params}
        self.schedule = shapes.build(self.kind, params)
        # The report annotates plots with the phases, so the schedule is saved beside the CSV.
        (_RUN_DIR / SCHEDULE_JSON).write_text(
            json.dumps(
                {
                    "kind": self.kind,
                    "params": self.schedule.params,
                    "total_s": self.schedule.total,
                    "phases": [{"start_s": s, "name": n} for s, n in self.schedule.boundaries()],
                },
                indent=2,
            )
        )

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()  # type: ignore[no-untyped-call]
        if PROFILE.max_time is not None and elapsed >= PROFILE.max_time:
            return None
        return self.schedule.at(elapsed)


def shape_class(kind: str, defaults: dict[str, Any] | None = None) -> type[ScheduleShape]:
    """A concrete locust shape for `kind`; the profile's shape_params override `defaults`."""
    shapes.build(kind, defaults)  # fail at import, with the accepted parameters, on a typo
    name = "".join(part.title() for part in kind.split("_")) + "Shape"
    return type(name, (ScheduleShape,), {"kind": kind, "defaults": dict(defaults or {}), "abstract": False})


def scenario_shape(name: str) -> type[ScheduleShape]:
    """The locust shape of a catalog scenario (what loadtest/scenarios/NN_<shape>.py use)."""
    scenario = catalog.get(name)
    return shape_class(scenario.shape, scenario.shape_defaults)


_TIMES: dict[str, float] = {}


def _save_times() -> None:
    (_RUN_DIR / LOCUST_TIMES_JSON).write_text(json.dumps(_TIMES, indent=2))


# The load window of the report: from the moment the test (and its shape clock)
# starts to the moment it stops, in wall-clock time.
def _test_started(**_: Any) -> None:
    _TIMES["started_at"] = time.time()
    _save_times()


def _test_stopped(**_: Any) -> None:
    _TIMES["ended_at"] = time.time()
    _save_times()


def _close_csv(**_: Any) -> None:
    _APPENDER.close()


# Registered by call, not as decorators: locust's EventHook.add_listener is unannotated, so as a
# decorator it would erase the handlers' types; as a call it falls under untyped_calls_exclude.
events.test_start.add_listener(_test_started)
events.test_stop.add_listener(_test_stopped)
events.quitting.add_listener(_close_csv)
