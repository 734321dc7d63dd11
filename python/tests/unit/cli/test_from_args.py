"""cli/_from_args.py and its users: flags reach the options dataclass under their own names."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest

from llmaz_serverless.cli import build_parser
from llmaz_serverless.cli._from_args import dataclass_from_args
from llmaz_serverless.cli.loadtest import options_from_args
from llmaz_serverless.loadtest.replicas import DEFAULT_READY_QUERY, DEFAULT_REPLICAS_QUERY


@dataclass
class Options:
    name: str = "default-name"
    size: int = 1
    derived: str = "default-derived"
    tags: list[str] = field(default_factory=list)
    cache: dict[str, str] = field(default_factory=dict, init=False)


def test_fields_named_like_flags_are_copied_the_rest_keep_their_defaults() -> None:
    options = dataclass_from_args(Options, argparse.Namespace(name="n", unrelated=1, cache={"x": "y"}))
    assert options == Options(name="n")
    assert options.cache == {}  # not an init field: never taken from the flags


def test_a_computed_field_wins_over_a_flag_of_the_same_name() -> None:
    args = argparse.Namespace(name="n", size=5, derived="raw")
    assert dataclass_from_args(Options, args, derived="computed") == Options("n", 5, "computed")


def test_a_computed_field_the_class_lacks_is_refused() -> None:
    with pytest.raises(TypeError, match="no_such_field"):
        dataclass_from_args(Options, argparse.Namespace(), no_such_field=1)


def test_a_class_that_is_not_a_dataclass_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="is not a dataclass"):
        dataclass_from_args(argparse.Namespace, argparse.Namespace())


def _loadtest(*flags: str) -> argparse.Namespace:
    return build_parser(only="loadtest").parse_args(["loadtest", "--local", *flags])


def test_loadtest_copies_same_name_flags_and_computes_the_renamed_ones() -> None:
    args = _loadtest(
        "--scenario", "03_burst_after_idle", "--namespace", "llm", "--max-time", "9",
        "--no-gateway", "--no-report", "--quiet", "--shape-param", "idle=360", "--model", "m",
    )  # fmt: skip
    options = options_from_args(args)
    assert (options.scenario, options.namespace, options.max_time, options.target) == (
        "03_burst_after_idle",
        "llm",
        9.0,
        None,
    )
    assert (options.use_gateway, options.report, options.progress) == (False, False, False)
    assert options.shape_params == {"idle": "360"}
    assert options.profile == {"model": "m"}
    assert options.scenario_override is None


def test_loadtest_queries_fall_back_to_the_defaults_when_absent_or_empty() -> None:
    assert options_from_args(_loadtest()).replicas_query == DEFAULT_REPLICAS_QUERY
    empty = options_from_args(_loadtest("--replicas-query", "", "--ready-query", ""))
    assert (empty.replicas_query, empty.ready_query) == (DEFAULT_REPLICAS_QUERY, DEFAULT_READY_QUERY)
    given = options_from_args(_loadtest("--replicas-query", "up{x}", "--ready-query", "ready{x}"))
    assert (given.replicas_query, given.ready_query) == ("up{x}", "ready{x}")
