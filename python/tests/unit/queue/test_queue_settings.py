"""The `queue:` section: what the gateway and the worker agree on, its rules and its forms."""

from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.queue.settings import QueueSettings


def test_stream_for_prefixes_the_model_name_when_asked_for_a_models_stream() -> None:
    assert QueueSettings().stream_for("llama-3") == "llmaz-serverless:async:llama-3"


@pytest.mark.parametrize(
    "section, words",
    [
        ({"results": {"store": "objectStore"}}, "set objectStore.type to 'filesystem' or 's3'"),
        ({"objectStore": {"type": "s3"}}, "queue.objectStore.bucket is empty"),
        ({"payloads": {"inlineMaxBytes": 10, "maxBytes": 5}}, "lower inlineMaxBytes"),
        ({"claimIdel": "30s"}, "claimIdel"),
        ({"maxAttempts": 3}, "maxAttempts"),  # a worker key: refused here, read from `worker:`
    ],
)
def test_settings_are_refused_with_the_key_named_when_inconsistent(section: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        QueueSettings.model_validate(section)


def test_flag_beats_env_beats_file_when_a_queue_key_is_set_in_all_three() -> None:
    runtime = RuntimeConfig.model_validate(
        {"queue": {"claimIdle": "5m", "results": {"ttl": "1h"}, "keyPrefix": "file:"}}
    )
    parser = argparse.ArgumentParser()
    QueueSettings.add_flags(parser)
    args = parser.parse_args(["--queue-claim-idle", "15s"])
    env = {"LLMAZ_SERVERLESS_QUEUE__CLAIM_IDLE": "90s", "LLMAZ_SERVERLESS_QUEUE__RESULTS__TTL": "2h"}
    q = QueueSettings.load(runtime, args, env)
    assert (q.claim_idle, q.results.ttl, q.key_prefix) == (15.0, 7200.0, "file:")


def test_the_loaded_section_is_what_later_readers_of_the_runtime_see() -> None:
    # The gateway's route modules and the worker service read `runtime.section("queue")`
    # after the CLI loaded it with env and flags: they must see the same values.
    runtime = RuntimeConfig.model_validate({"queue": {"claimIdle": "5m"}})
    QueueSettings.load(runtime, environ={"LLMAZ_SERVERLESS_QUEUE__CLAIM_IDLE": "42s"})
    assert runtime.section("queue", QueueSettings).claim_idle == 42.0
