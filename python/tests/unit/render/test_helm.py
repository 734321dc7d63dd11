"""Running the real helm (from `make tools`) on a small chart of the test's own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmaz_serverless.render.helm import HelmTemplateError, TemplateRequest, helm_template
from llmaz_serverless.toolpaths import ToolMissingError


def write_chart(root: Path) -> Path:
    chart = root / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: tiny\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "values.yaml").write_text("name: cm\nbroken: false\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text(
        '{{- if .Values.broken }}{{ fail "broken: true is not allowed" }}{{ end }}\n'
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n"
        "  namespace: {{ .Release.Namespace }}\n"
        "data:\n  upgrade: {{ .Release.IsUpgrade | quote }}\n"
        '  monitors: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}\n',
        encoding="utf-8",
    )
    return chart


def test_command_maps_every_option_to_its_helm_flag_when_built(tmp_path: Path) -> None:
    request = TemplateRequest(
        chart=tmp_path,
        values_files=[Path("a.yaml"), Path("b.yaml")],
        set_values=["x=1"],
        release="r",
        namespace="n",
        api_versions=["monitoring.coreos.com/v1"],
        kube_version="1.35",
        is_upgrade=True,
    )
    assert request.command(Path("/bin/helm")) == [
        "/bin/helm", "template", "r", str(tmp_path), "--namespace", "n",
        "--values", "a.yaml", "--values", "b.yaml", "--set", "x=1",
        "--api-versions", "monitoring.coreos.com/v1", "--kube-version", "1.35", "--is-upgrade",
    ]  # fmt: skip


def test_real_helm_renders_values_and_capabilities_when_given(tmp_path: Path) -> None:
    chart = write_chart(tmp_path)
    values = tmp_path / "v.yaml"
    values.write_text("name: from-file\n", encoding="utf-8")
    out = helm_template(
        TemplateRequest(
            chart=chart,
            values_files=[values],
            namespace="ns1",
            api_versions=["monitoring.coreos.com/v1"],
            is_upgrade=True,
        )
    )
    assert "name: from-file" in out and "namespace: ns1" in out
    assert 'upgrade: "true"' in out and 'monitors: "true"' in out
    assert "name: from-set" in helm_template(TemplateRequest(chart=chart, set_values=["name=from-set"]))


def test_helm_error_carries_the_chart_message_when_the_chart_fails(tmp_path: Path) -> None:
    chart = write_chart(tmp_path)
    with pytest.raises(HelmTemplateError, match="broken: true is not allowed") as err:
        helm_template(TemplateRequest(chart=chart, set_values=["broken=true"]))
    assert err.value.returncode != 0


def test_missing_helm_names_make_tools_when_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMAZ_SERVERLESS_BIN_DIR", str(tmp_path / "no-bin"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not (tmp_path / "helm").exists() and os.environ["PATH"] == str(tmp_path)
    with pytest.raises(ToolMissingError, match="make tools"):
        helm_template(TemplateRequest(chart=write_chart(tmp_path)))
