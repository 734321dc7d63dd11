"""One way to declare a subcommand: its name, help, description, epilog and flags, in one value.

Every command module declares its parser as a `Command` and adds it in `register()`; the flag
groups several commands share (the chart values flags with `--output`, `--config` with a
settings class's flags) are ready-made `FlagAdder`s here, so they read and behave the same in
every command. The leading underscore keeps this module out of the command list.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmaz_serverless.cli._config_flag import add_config_flag
from llmaz_serverless.cli._values_flags import CHART_HELP, VALUES_HELP, add_values_flags

if TYPE_CHECKING:  # only named here: commands without settings flags skip importing pydantic-settings
    from llmaz_serverless.settings import ComponentSettings

# Adds some flags to a parser; a command's flags are a sequence of these, added in order (which is
# also the order `--help` lists them in).
FlagAdder = Callable[[argparse.ArgumentParser], None]
# A command's handler: the parsed namespace in, the exit code out.
Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """A subcommand: what `--help` says of it and which flags it takes.

    epilog: text after the flags (examples, exit codes), printed as written: with an epilog the
    parser keeps the line breaks of the description and epilog instead of re-wrapping them.
    """

    name: str
    help: str
    description: str | None = None
    epilog: str | None = None
    flags: tuple[FlagAdder, ...] = ()

    def add_to(
        self, subparsers: argparse._SubParsersAction, func: Handler | None = None
    ) -> argparse.ArgumentParser:
        """Add this command's parser and flags under `subparsers`; `func` handles it when given."""
        raw: dict[str, Any] = {}
        if self.epilog is not None:
            raw = {"epilog": self.epilog, "formatter_class": argparse.RawDescriptionHelpFormatter}
        parser: argparse.ArgumentParser = subparsers.add_parser(
            self.name, help=self.help, description=self.description, **raw
        )
        for add in self.flags:
            add(parser)
        if func is not None:
            parser.set_defaults(func=func)
        return parser


def values_and_output(
    *outputs: str, values_help: str = VALUES_HELP, chart_help: str = CHART_HELP
) -> FlagAdder:
    """-f/--values, --set, --chart (cli/_values_flags.py), then `--output/-o` among `outputs`.

    The first of `outputs` is the default format.
    """

    def add(parser: argparse.ArgumentParser) -> None:
        add_values_flags(parser, values_help=values_help, chart_help=chart_help)
        parser.add_argument("--output", "-o", choices=outputs, default=outputs[0])

    return add


def config(reads: str, *, required: bool = False, keep_earlier: bool = False) -> FlagAdder:
    """`--config FILE` (cli/_config_flag.py); `reads` says what the command takes from the file."""

    def add(parser: argparse.ArgumentParser) -> None:
        add_config_flag(parser, reads, required=required, keep_earlier=keep_earlier)

    return add


def settings(*classes: type[ComponentSettings], default: Any = None) -> FlagAdder:
    """One flag per scalar field of each settings class (llmaz_serverless.settings), in order.

    default=argparse.SUPPRESS on a sub-subcommand: its unset flags leave the parent's alone.
    """

    def add(parser: argparse.ArgumentParser) -> None:
        for cls in classes:
            cls.add_flags(parser, default=default)

    return add
