"""`llmaz-serverless validate` through the real entry point (`python -m llmaz_serverless`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BAD = """\
gateway:
  replicas: 2
  replcas: 3
models:
  - name: llama
    source: {modelHub: {modelID: m/x}}
    scaling: {minReplicaCount: 3, maxReplicaCount: 2}
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmaz_serverless", "validate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_help_documents_the_exit_codes_when_asked() -> None:
    out = cli("--help")
    assert out.returncode == 0
    assert "exit codes:" in out.stdout and "2  usage error" in out.stdout


def test_valid_file_exits_0_when_nothing_is_wrong(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("models:\n  - name: l\n    source: {modelHub: {modelID: m/x}}\n", encoding="utf-8")
    out = cli("-f", str(good))
    assert out.returncode == 0, out.stdout
    assert out.stdout.strip() == f"{good}: valid (0 errors, 0 warnings)"


def test_invalid_file_exits_1_listing_every_problem_when_text(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    out = cli("-f", str(bad))
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        f'{bad}:3: error: gateway.replcas: unknown key (got "replcas"); fix: did you mean `replicas`? '
        "[schema]",
        f"{bad}:7: error: models[0].scaling.maxReplicaCount: is below scaling.minReplicaCount (3) (got 2); "
        "fix: set maxReplicaCount to 3 or more, or lower minReplicaCount [scaling/max-below-min]",
        f"{bad}: INVALID (2 errors, 0 warnings)",
    ]


def test_json_output_is_machine_readable_when_asked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    out = cli("-f", str(bad), "--output", "json", "--set", "gateway.replicas=3")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["valid"] is False and doc["errors"] == 2
    assert [(p["rule"], p["path"], p["line"]) for p in doc["problems"]] == [
        ("schema", "gateway.replcas", 3),
        ("scaling/max-below-min", "models[0].scaling.maxReplicaCount", 7),
    ]


def test_unreadable_input_exits_2_when_file_or_set_is_bad(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [\n", encoding="utf-8")
    out = cli("-f", str(broken))
    assert out.returncode == 2 and f"{broken}:2: not valid YAML" in out.stderr
    assert cli("-f", str(tmp_path / "missing.yaml")).returncode == 2
    assert cli("--set", "novalue").returncode == 2
    assert cli("--skip-rule", "no/such-rule").returncode == 2
    assert cli("--chart", str(tmp_path)).returncode == 2


def test_strict_turns_warnings_into_exit_1_when_asked(tmp_path: Path) -> None:
    values = tmp_path / "gpu.yaml"
    values.write_text(
        "models:\n  - name: l\n    source: {uri: 'ollama://q'}\n    flavors: [{name: g, limits: "
        "{nvidia.com/gpu: 1}}]\n",
        encoding="utf-8",
    )
    assert cli("-f", str(values)).returncode == 0
    assert cli("-f", str(values), "--strict").returncode == 1


def test_list_rules_prints_every_rule_id_when_asked() -> None:
    out = cli("--list-rules")
    assert out.returncode == 0
    assert "cron/invalid-timezone (warning)" in out.stdout and "scaling/max-below-min (error)" in out.stdout


def test_ignore_skips_a_rule_when_named_like_skip_rule(tmp_path: Path) -> None:
    values = tmp_path / "bounds.yaml"
    values.write_text(
        "models:\n  - name: l\n    source: {uri: 'ollama://q'}\n"
        "    scaling: {minReplicaCount: 3, maxReplicaCount: 2}\n",
        encoding="utf-8",
    )
    assert cli("-f", str(values)).returncode == 1
    out = cli("-f", str(values), "--ignore", "scaling/max-below-min")
    assert out.returncode == 0, out.stdout
    assert "[scaling/max-below-min]" not in out.stdout


def test_a_moved_key_names_its_new_place_when_set_where_it_was(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text("worker:\n  config:\n    broker: nats\n", encoding="utf-8")
    out = cli("-f", str(old))
    assert out.returncode == 1
    assert (
        f'{old}:3: error: worker.config.broker: unknown key (got "broker"); '
        "fix: this setting moved to `worker.broker`: set it there [schema]"
    ) in out.stdout.splitlines()
