"""The `worker:` section: defaults, cross-field rules, and the file/env/flag forms of each key."""

from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.overrides import add_flags, leaves
from llmaz_serverless.worker.settings import ENV_PREFIX, WorkerSettings, load_settings


def test_stream_for_prefixes_the_model_name_when_asked_for_a_models_stream() -> None:
    assert WorkerSettings().stream_for("llama-3") == "llmaz-serverless:async:llama-3"


@pytest.mark.parametrize(
    "section, words",
    [
        ({"results": {"store": "objectStore"}}, "worker.objectStore.type to 'filesystem' or 's3'"),
        ({"objectStore": {"type": "s3"}}, "worker.objectStore.bucket is empty"),
        ({"payloads": {"inlineMaxBytes": 10, "maxBytes": 5}}, "lower inlineMaxBytes"),
        ({"claimIdel": "30s"}, "claimIdel"),
    ],
)
def test_settings_are_refused_with_the_key_named_when_inconsistent(section: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        WorkerSettings.model_validate(section)


def test_flag_beats_env_beats_file_when_a_key_is_set_in_all_three() -> None:
    runtime = RuntimeConfig.model_validate(
        {"worker": {"claimIdle": "5m", "concurrency": 3, "maxAttempts": 2}}
    )
    parser = argparse.ArgumentParser()
    add_flags(parser, WorkerSettings, ENV_PREFIX)
    args = parser.parse_args(["--claim-idle", "15s"])
    env = {"LLMAZ_SERVERLESS_WORKER__CLAIM_IDLE": "90s", "LLMAZ_SERVERLESS_WORKER__CONCURRENCY": "7"}
    s = load_settings(runtime, args, env)
    assert (s.claim_idle, s.concurrency, s.max_attempts) == (15.0, 7, 2)


def test_env_var_is_refused_listing_valid_names_when_it_matches_no_key() -> None:
    with pytest.raises(ValueError, match="LLMAZ_SERVERLESS_WORKER__CLAIM_IDLE"):
        load_settings(RuntimeConfig(), environ={"LLMAZ_SERVERLESS_WORKER__CLAIM_IDEL": "1s"})


def _attr(obj: object, path: tuple[str, ...]) -> object:
    for name in path:
        obj = getattr(obj, name)
    return obj


def test_every_scalar_key_reads_the_same_from_file_env_and_flag_when_given_one_value() -> None:
    defaults = WorkerSettings()
    parser = argparse.ArgumentParser()
    add_flags(parser, WorkerSettings, ENV_PREFIX)
    checked = 0
    for leaf in leaves(WorkerSettings):
        value = _attr(defaults, leaf.path)
        text = str(value).lower() if isinstance(value, bool) else str(value)
        doc: dict = {}
        node = doc
        for alias in leaf.aliases[:-1]:
            node = node.setdefault(alias, {})
        node[leaf.aliases[-1]] = value
        from_file = load_settings(RuntimeConfig.model_validate({"worker": doc}), environ={})
        from_env = load_settings(RuntimeConfig(), environ={leaf.env(ENV_PREFIX): text})
        flag_args = (
            [leaf.flag if value else "--no-" + leaf.flag[2:]]
            if isinstance(value, bool)
            else [leaf.flag, text]
        )
        from_flag = load_settings(RuntimeConfig(), parser.parse_args(flag_args), environ={})
        assert (
            _attr(from_file, leaf.path) == _attr(from_env, leaf.path) == _attr(from_flag, leaf.path) == value
        )
        checked += 1
    assert checked >= 30
