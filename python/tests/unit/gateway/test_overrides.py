import argparse

import pytest

from llmaz_serverless.gateway.overrides import (
    add_flags,
    leaves,
    merge,
    overrides_from_args,
    overrides_from_env,
    to_aliases,
)
from llmaz_serverless.gateway.settings import ENV_PREFIX, GatewaySettings


def test_every_scalar_key_has_flag_env_and_attribute_forms():
    parser = argparse.ArgumentParser()
    add_flags(parser, GatewaySettings, ENV_PREFIX)
    flags = {a for action in parser._actions for a in action.option_strings}
    found = list(leaves(GatewaySettings))
    assert len(found) >= 20
    for leaf in found:
        assert leaf.flag in flags
        assert leaf.env(ENV_PREFIX).startswith("LLMAZ_SERVERLESS_GATEWAY__")
        value = GatewaySettings()
        for part in leaf.path:
            value = getattr(value, part)  # the attribute form exists
    cache_ttl = next(leaf for leaf in found if leaf.path == ("cache", "ttl"))
    assert (cache_ttl.flag, cache_ttl.env(ENV_PREFIX), cache_ttl.key) == (
        "--cache-ttl",
        "LLMAZ_SERVERLESS_GATEWAY__CACHE__TTL",
        "cache.ttl",
    )
    max_entry = next(leaf for leaf in found if leaf.path == ("cache", "max_entry_bytes"))
    assert (max_entry.flag, max_entry.key) == ("--cache-max-entry-bytes", "cache.maxEntryBytes")


def test_flags_given_become_nested_camel_overrides_and_unset_flags_do_not():
    parser = argparse.ArgumentParser()
    add_flags(parser, GatewaySettings, ENV_PREFIX)
    args = parser.parse_args(["--port", "9000", "--cache-ttl", "2m", "--no-access-log", "--auth-enabled"])
    assert overrides_from_args(GatewaySettings, args) == {
        "port": "9000",
        "accessLog": False,
        "cache": {"ttl": "2m"},
        "auth": {"enabled": True},
    }


def test_a_setting_with_fixed_choices_has_a_flag_that_refuses_other_values():
    parser = argparse.ArgumentParser()
    add_flags(parser, GatewaySettings, ENV_PREFIX)
    args = parser.parse_args(["--event-loop", "asyncio"])
    assert overrides_from_args(GatewaySettings, args) == {"eventLoop": "asyncio"}
    with pytest.raises(SystemExit):
        parser.parse_args(["--event-loop", "trio"])
    env = {"LLMAZ_SERVERLESS_GATEWAY__EVENT_LOOP": "asyncio"}
    settings = GatewaySettings.model_validate(overrides_from_env(GatewaySettings, ENV_PREFIX, env))
    assert settings.event_loop == "asyncio"


def test_bare_numbers_are_seconds_when_duration_comes_from_env():
    env = {"LLMAZ_SERVERLESS_GATEWAY__SHUTDOWN_DELAY": "1.5", "LLMAZ_SERVERLESS_GATEWAY__CACHE__TTL": "90s"}
    tree = overrides_from_env(GatewaySettings, ENV_PREFIX, env)
    settings = GatewaySettings.model_validate(tree)
    assert settings.shutdown_delay == 1.5
    assert settings.cache.ttl == 90.0


def test_unknown_env_var_is_an_error_listing_valid_names():
    with pytest.raises(
        ValueError, match=r"LLMAZ_SERVERLESS_GATEWAY__CACHE__TTLL matches no setting.*CACHE__TTL"
    ):
        overrides_from_env(GatewaySettings, ENV_PREFIX, {"LLMAZ_SERVERLESS_GATEWAY__CACHE__TTLL": "1"})


def test_merge_is_deep_and_to_aliases_lines_up_snake_and_camel_keys():
    base = to_aliases(GatewaySettings, {"max_body_bytes": 10, "cache": {"key_prefix": "p:", "ttl": 5}})
    assert base == {"maxBodyBytes": 10, "cache": {"keyPrefix": "p:", "ttl": 5}}
    assert merge(base, {"cache": {"ttl": 7}}) == {"maxBodyBytes": 10, "cache": {"keyPrefix": "p:", "ttl": 7}}
