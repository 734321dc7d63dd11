"""cli/_command.py: a declared Command becomes the parser its fields say, flags in the order given."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from llmaz_serverless.cli import build_parser
from llmaz_serverless.cli._command import Command, values_and_output

# Two sentences on two short lines: a re-wrapping formatter joins them into one line.
DESCRIPTION = "First line.\nSecond line."


def _subparsers() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    root = argparse.ArgumentParser(prog="root")
    return root, root.add_subparsers(dest="command")


def _handler(_args: argparse.Namespace) -> int:
    return 7


def test_an_epilog_is_printed_as_written_and_keeps_the_description_lines(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    _, sub = _subparsers()
    parser = Command("x", help="h", description=DESCRIPTION, epilog="exit codes:\n  0  ok").add_to(sub)
    text = parser.format_help()
    assert "First line.\nSecond line." in text
    assert "exit codes:\n  0  ok" in text


def test_without_an_epilog_the_description_is_wrapped_as_argparse_does(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    _, sub = _subparsers()
    parser = Command("x", help="h", description=DESCRIPTION).add_to(sub)
    assert "First line. Second line." in parser.format_help()


def test_flags_come_in_the_order_given_and_the_handler_is_set() -> None:
    root, sub = _subparsers()

    def first(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--zeta")

    def second(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--alpha")

    parser = Command("x", help="listed in the root help", flags=(first, second)).add_to(sub, _handler)
    options = [a.option_strings[0] for a in parser._actions if a.option_strings]
    assert options == ["-h", "--zeta", "--alpha"]
    args = root.parse_args(["x", "--alpha", "a"])
    assert (args.alpha, args.func(args)) == ("a", 7)
    assert "listed in the root help" in root.format_help()


def test_without_a_handler_the_command_sets_none() -> None:
    root, sub = _subparsers()
    Command("x", help="h").add_to(sub)
    assert not hasattr(root.parse_args(["x"]), "func")


def test_values_and_output_default_to_the_first_format_and_refuse_others(capsys) -> None:
    root, sub = _subparsers()
    Command("x", help="h", flags=(values_and_output("table", "json"),)).add_to(sub)
    args = root.parse_args(["x", "-f", "a.yaml", "--values", "b.yaml", "--set", "k=v"])
    assert (args.output, args.values, args.set_values, args.chart) == (
        "table",
        [Path("a.yaml"), Path("b.yaml")],
        ["k=v"],
        None,
    )
    assert root.parse_args(["x", "-o", "json"]).output == "json"
    with pytest.raises(SystemExit):
        root.parse_args(["x", "-o", "yaml"])
    assert "invalid choice: 'yaml'" in capsys.readouterr().err


def test_settings_flags_before_a_subcommand_count_unless_repeated_after_it() -> None:
    # warmup declares `controller` with settings(..., default=SUPPRESS): its unset flags keep the parent's.
    parser = build_parser(only="warmup")
    dest = "settings__warmup__hook__attempts"
    assert getattr(parser.parse_args(["warmup", "--hook-attempts", "3", "controller"]), dest) == "3"
    after = ["warmup", "--hook-attempts", "3", "controller", "--hook-attempts", "5"]
    assert getattr(parser.parse_args(after), dest) == "5"
