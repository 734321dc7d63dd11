"""Every long-running command takes `--config` the same way: a flag, else LLMAZ_SERVERLESS_CONFIG."""

from __future__ import annotations

import pytest

from llmaz_serverless.cli import build_parser
from llmaz_serverless.cli._config_flag import CONFIG_ENV

# argv after the command name that the parser needs besides --config.
COMMANDS = {
    "gateway": ["gateway"],
    "worker": ["worker"],
    "sim": ["sim"],
    "up": ["up"],
    "warmup": ["warmup", "--once"],
    "warmup controller": ["warmup", "controller"],
}


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_the_environment_names_the_file_and_the_flag_wins(monkeypatch, argv: list[str]) -> None:
    monkeypatch.setenv(CONFIG_ENV, "/from/env.yaml")
    parser = build_parser(only=argv[0])
    assert parser.parse_args(argv).config == "/from/env.yaml"
    assert parser.parse_args([*argv, "--config", "/flag.yaml"]).config == "/flag.yaml"


def test_a_config_before_a_subcommand_is_kept(monkeypatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    parser = build_parser(only="warmup")
    assert parser.parse_args(["warmup", "--config", "/a.yaml", "controller"]).config == "/a.yaml"
    assert parser.parse_args(
        ["warmup", "--config", "/a.yaml", "controller", "--config", "/b.yaml"]
    ).config == ("/b.yaml")


def test_the_worker_needs_a_file_from_the_flag_or_the_environment(monkeypatch, capsys) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    with pytest.raises(SystemExit):
        build_parser(only="worker").parse_args(["worker"])
    assert "--config" in capsys.readouterr().err
    monkeypatch.setenv(CONFIG_ENV, "/from/env.yaml")
    assert build_parser(only="worker").parse_args(["worker"]).config == "/from/env.yaml"
