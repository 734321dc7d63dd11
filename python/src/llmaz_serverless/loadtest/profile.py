"""What a load-test run sends: the profile the runner writes and the locust users read.

The runner writes `RUN_DIR/profile.json` and passes its path to the locust
process in `LLMAZ_LOADTEST_PROFILE`; the same file stays in the run directory
so the report can state exactly what was sent. Without the variable (running
`locust -f loadtest/locustfile.py` by hand) the defaults below apply.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmaz_serverless.loadtest.distributions import parse_length
from llmaz_serverless.openai_paths import CHAT

PROFILE_ENV = "LLMAZ_LOADTEST_PROFILE"


class AsyncOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Path the async submit goes to, relative to the target.
    submit_path: str = CHAT.async_path
    # Seconds between status polls.
    poll_interval: float = Field(default=0.25, gt=0)
    # Give up on a job after this many seconds (recorded as a timeout error).
    deadline: float = Field(default=600.0, gt=0)


class LoadProfile(BaseModel):
    # Scenario name (the file in loadtest/scenarios/ without .py).
    scenario: str = "01_steady"
    # OpenAI `model` sent in every body.
    model: str = "emulated-llm"
    # chat | completions | mixed (half each) | async (the async API; see `async_`).
    api: Literal["chat", "completions", "mixed", "async"] = "chat"
    stream: bool = True
    # Length distributions (see distributions.py for the syntax).
    prompt_tokens: str = "lognormal:median=96,sigma=0.7,min=8,max=2048"
    output_tokens: str = "uniform:16,64"
    # Non-zero so the gateway's response cache stays out of the measurement.
    temperature: float = 0.7
    # Requests per second each simulated user aims at (locust constant_throughput);
    # a user waits for its response first, so slow responses lower the rate.
    user_rps: float = Field(default=1.0, gt=0)
    # Traffic shape name and parameters (see shapes.py).
    shape: str = "steady"
    shape_params: dict[str, Any] = Field(default_factory=dict)
    # Seconds one request may take, cold start included.
    request_timeout: float = Field(default=600.0, gt=0)
    # Extra headers on every request (e.g. Authorization for a gateway with API keys).
    headers: dict[str, str] = Field(default_factory=dict)
    seed: int = 1
    # Hard bound on the load's duration in seconds: the shape stops the test then
    # even if its schedule is longer (locust ignores --run-time with a shape).
    max_time: float | None = Field(default=None, gt=0)
    # Where users append `requests.csv`; None: the current directory.
    run_dir: str | None = None
    async_: AsyncOptions = Field(default_factory=AsyncOptions, alias="async")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("prompt_tokens", "output_tokens")
    @classmethod
    def _valid_length(cls, value: str) -> str:
        parse_length(value)
        return value

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def load_profile(path: str | Path | None = None) -> LoadProfile:
    """The profile at `path`, else at $LLMAZ_LOADTEST_PROFILE, else the defaults."""
    path = path or os.environ.get(PROFILE_ENV)
    if not path:
        return LoadProfile()
    return LoadProfile.model_validate_json(Path(path).read_text(encoding="utf-8"))
