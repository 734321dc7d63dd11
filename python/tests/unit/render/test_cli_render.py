"""`llmaz-serverless render` through the real entry point (`python -m llmaz_serverless`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MANIFESTS = Path(__file__).parent / "manifests"


def cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmaz_serverless", "render", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
        input=stdin,
    )


def test_help_documents_the_exit_codes_when_asked() -> None:
    out = cli("--help")
    assert out.returncode == 0
    assert "exit codes:" in out.stdout and "make tools" in out.stdout


def test_manifest_file_prints_a_table_and_exits_0_when_all_valid() -> None:
    out = cli("--manifest", str(MANIFESTS / "good-crds.yaml"), "--namespace", "models")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "STATUS", "TEMPLATE"]
    assert lines[1].split() == ["ScaledObject", "rel-llama", "ok", "sample/scaledobject.yaml"]
    assert lines[-1] == "14 objects, 0 invalid"


def test_invalid_object_exits_1_with_its_problems_when_json_is_asked() -> None:
    manifest = (
        (MANIFESTS / "good-crds.yaml").read_text(encoding="utf-8").replace('threshold: "4"', "threshold: 4")
    )
    out = cli("--manifest", "-", "--namespace", "models", "--output", "json", stdin=manifest)
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["valid"] is False and doc["kubeVersion"] == "1.35"
    bad = [o for o in doc["objects"] if o["status"] != "ok"]
    assert [(o["kind"], o["problems"]) for o in bad] == [
        (
            "ScaledObject",
            [
                "spec.triggers[1].metadata.threshold: must be a string, not integer (got 4); fix: quote "
                'it: "4"'
            ],
        )
    ]


def test_missing_helm_exits_2_naming_make_tools_when_not_installed(tmp_path: Path) -> None:
    env = dict(os.environ, LLMAZ_SERVERLESS_BIN_DIR=str(tmp_path / "none"), PATH=str(tmp_path))
    out = cli(env=env)
    assert out.returncode == 2
    assert "make tools" in out.stderr


def test_unknown_kube_version_exits_2_when_no_schemas_exist() -> None:
    out = cli("--manifest", str(MANIFESTS / "good-crds.yaml"), "--kube-version", "1.2")
    assert out.returncode == 2 and "kubernetes-validate has no schemas" in out.stderr


@pytest.mark.charts
def test_real_chart_defaults_render_valid_when_helm_runs() -> None:
    out = cli("--api-versions", "monitoring.coreos.com/v1", "--output", "json")
    doc = json.loads(out.stdout)
    assert out.returncode == 0, [o for o in doc["objects"] if o["status"] != "ok"]
    assert doc["objects"], "the chart rendered nothing"


@pytest.mark.charts
def test_helm_refusal_exits_1_with_helms_message_when_values_break_the_schema(tmp_path: Path) -> None:
    values = tmp_path / "bad.yaml"
    values.write_text("gateway:\n  replicas: many\n", encoding="utf-8")
    out = cli("-f", str(values))
    assert out.returncode == 1
    assert "helm template refused the chart" in out.stderr and "replicas" in out.stderr
    # ...and the readable version of the same problem, with its file and line.
    assert f'{values}:2: error: gateway.replicas: must be an integer, not string (got "many")' in out.stderr
