"""`llmaz-serverless worker` refuses unusable configurations with the key named, before connecting."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmaz_serverless.cli import EXIT_INVALID, EXIT_USAGE, main


def test_exit_invalid_naming_the_model_when_queue_models_lists_an_unknown_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "runtime.yaml"
    config.write_text(
        'models: [{name: m, playground: m, upstream: "http://127.0.0.1:9"}]\nqueue: {models: [nope]}\n'
    )
    assert main(["worker", "--config", str(config)]) == EXIT_INVALID
    assert "queue.models names ['nope']" in capsys.readouterr().out


def test_exit_invalid_naming_the_key_when_the_section_has_a_typo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "runtime.yaml"
    config.write_text("worker: {claimIdel: 3s}\n")
    assert main(["worker", "--config", str(config)]) == EXIT_INVALID
    assert "claimIdel" in capsys.readouterr().out


def test_exit_usage_when_the_config_file_is_missing(tmp_path: Path) -> None:
    assert main(["worker", "--config", str(tmp_path / "nope.yaml")]) == EXIT_USAGE
