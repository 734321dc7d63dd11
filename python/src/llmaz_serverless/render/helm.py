"""Run the real `helm template` (Helm 4 from `make tools`, or helm on PATH)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llmaz_serverless.toolpaths import find_tool

DEFAULT_RELEASE = "llmaz-serverless"
DEFAULT_NAMESPACE = "llmaz-serverless"
# Rendering a whole chart takes well under a second; a hung helm must not hang CI.
HELM_TIMEOUT_S = 120


class HelmTemplateError(RuntimeError):
    """helm ran and refused the chart or values (schema error, `fail`, template error)."""

    def __init__(self, command: Sequence[str], returncode: int, stderr: str) -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr.strip()
        super().__init__(f"helm template failed (exit {returncode}): {self.stderr}")


@dataclass
class TemplateRequest:
    """Everything `helm template` needs; maps one-to-one to its flags."""

    chart: Path
    values_files: list[Path] = field(default_factory=list)
    set_values: list[str] = field(default_factory=list)
    release: str = DEFAULT_RELEASE
    namespace: str = DEFAULT_NAMESPACE
    api_versions: list[str] = field(default_factory=list)
    kube_version: str | None = None
    is_upgrade: bool = False

    def command(self, helm: Path) -> list[str]:
        cmd = [str(helm), "template", self.release, str(self.chart), "--namespace", self.namespace]
        for path in self.values_files:
            cmd += ["--values", str(path)]
        for item in self.set_values:
            cmd += ["--set", item]
        for api in self.api_versions:
            cmd += ["--api-versions", api]
        if self.kube_version:
            cmd += ["--kube-version", self.kube_version]
        if self.is_upgrade:
            cmd.append("--is-upgrade")
        return cmd


def helm_template(request: TemplateRequest) -> str:
    """The rendered manifest; raises ToolMissingError (no helm) or HelmTemplateError."""
    helm = find_tool("helm")
    cmd = request.command(helm)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=HELM_TIMEOUT_S)
    if proc.returncode != 0:
        raise HelmTemplateError(cmd, proc.returncode, proc.stderr)
    return proc.stdout
