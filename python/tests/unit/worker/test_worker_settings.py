"""The `worker:` section: defaults, cross-field rules, and its file/env/flag forms.

That every key of every component reads the same from each form is
tests/unit/test_settings.py; here, the worker's own keys layered together.
"""

from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.worker.settings import WorkerSettings


def test_a_queue_key_in_the_worker_section_is_refused_naming_the_queue_section() -> None:
    # The worker reads the queue contract from `queue:` (queue/settings.py), like the gateway.
    with pytest.raises(
        ValidationError,
        match=r"worker.claimIdle, worker.objectStore .*move claimIdle, objectStore under queue:",
    ):
        WorkerSettings.model_validate(
            {"objectStore": {"type": "filesystem"}, "claimIdle": "1m", "maxAttempts": 2}
        )


def test_flag_beats_env_beats_file_when_a_key_is_set_in_all_three() -> None:
    runtime = RuntimeConfig.model_validate(
        {"worker": {"drainTimeout": "5m", "concurrency": 3, "maxAttempts": 2}}
    )
    parser = argparse.ArgumentParser()
    WorkerSettings.add_flags(parser)
    args = parser.parse_args(["--drain-timeout", "15s"])
    env = {"LLMAZ_SERVERLESS_WORKER__DRAIN_TIMEOUT": "90s", "LLMAZ_SERVERLESS_WORKER__CONCURRENCY": "7"}
    s = WorkerSettings.load(runtime, args, env)
    assert (s.drain_timeout, s.concurrency, s.max_attempts) == (15.0, 7, 2)


def test_env_var_is_refused_listing_valid_names_when_it_matches_no_key() -> None:
    with pytest.raises(ValueError, match="LLMAZ_SERVERLESS_WORKER__DRAIN_TIMEOUT"):
        WorkerSettings.load(RuntimeConfig(), environ={"LLMAZ_SERVERLESS_WORKER__DRAIN_TIMEUOT": "1s"})
