"""`llmaz-serverless warmup` argument handling, and the CLI in the container image (which
installs no optional extras such as matplotlib)."""

import importlib

import pytest

from llmaz_serverless import cli


def test_warmup_controller_takes_config_before_or_after_the_subcommand():
    parser = cli.build_parser("warmup")
    after = parser.parse_args(["warmup", "controller", "--config", "/etc/runtime.yaml"])
    before = parser.parse_args(["warmup", "--config", "/etc/runtime.yaml", "controller"])
    assert after.config == before.config == "/etc/runtime.yaml"
    assert after.func is before.func
    assert after.func.__name__ == "run_controller"


def test_warmup_settings_take_flags_before_or_after_controller_and_env_between_file_and_flag(
    tmp_path, monkeypatch
):
    from llmaz_serverless.cli.warmup import _load
    from llmaz_serverless.warmup.settings import WarmupSettings

    path = tmp_path / "runtime.yaml"
    path.write_text("warmup:\n  attempts: 2\n  maxConcurrentWarmups: 3\n  hook:\n    attempts: 4\n")
    monkeypatch.setenv("LLMAZ_SERVERLESS_WARMUP__MAX_CONCURRENT_WARMUPS", "5")
    parser = cli.build_parser("warmup")
    argv = ["warmup", "--config", str(path), "--attempts", "6", "controller", "--hook-attempts", "7"]
    loaded = _load(parser.parse_args(argv))
    assert loaded is not None
    runtime, settings = loaded
    assert (settings.attempts, settings.max_concurrent_warmups, settings.hook.attempts) == (6, 5, 7)
    # The controller and the hook read the section again later: they see the same settings.
    assert runtime.section("warmup", WarmupSettings) is settings


def test_warmup_once_is_the_hook():
    args = cli.build_parser("warmup").parse_args(["warmup", "--once", "--config", "r.yaml", "--model", "a"])
    assert (args.once, args.models, args.func.__name__) == (True, ["a"], "run_once")


def test_command_missing_an_optional_dependency_is_listed_unavailable(monkeypatch):
    real = importlib.import_module

    # importlib.import_module itself is patched, so every caller meets it (pydantic < 2.7 passes package=).
    def without_matplotlib(name, *args, **kwargs):
        if name == "llmaz_serverless.cli.report":
            raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(cli.importlib, "import_module", without_matplotlib)
    parser = cli.build_parser()
    help_text = parser.format_help()
    assert "unavailable: needs the Python package 'matplotlib'" in help_text
    assert "warmup" in help_text
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser("report")
