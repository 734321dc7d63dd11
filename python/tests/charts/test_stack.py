"""The umbrella chart: pinned dependencies with conditions; renders with only the local one present.

The remote dependencies (KEDA, the HTTP add-on, llmaz) cannot be fetched
here. scripts/lint_charts.assembled() builds a temporary copy whose charts/
holds the local llmaz-serverless packaged by helm and empty placeholders of
the declared names and versions for the remote ones (their conditions are off
in these renders, so nothing of theirs would render either way).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from helmrender import STACK, helm, load_script, parse_documents

lint_charts = load_script("lint_charts")


def _render(tmp_path: Path, *args: str) -> list[dict]:
    import subprocess

    with lint_charts.assembled(STACK, log=False) as chart:
        proc = subprocess.run(
            [helm(), "template", "stack", str(chart), "--namespace", "llmaz-serverless", *args],
            capture_output=True,
            text=True,
        )
    assert proc.returncode == 0, proc.stderr
    return list(parse_documents(proc.stdout))


def test_dependencies_are_pinned_with_conditions_when_declared() -> None:
    deps = {d["name"]: d for d in yaml.safe_load((STACK / "Chart.yaml").read_text())["dependencies"]}
    assert {n: (d["version"], d["repository"], d["condition"]) for n, d in deps.items()} == {
        "keda": ("2.20.2", "https://kedacore.github.io/charts", "keda.enabled"),
        "keda-add-ons-http": ("0.15.0", "https://kedacore.github.io/charts", "keda-add-ons-http.enabled"),
        "llmaz": ("0.0.10", "https://inftyai.github.io/llmaz", "llmaz.enabled"),
        "llmaz-serverless": ("0.1.0", "file://../llmaz-serverless", "llmaz-serverless.enabled"),
    }
    local = yaml.safe_load((STACK.parent / "llmaz-serverless" / "Chart.yaml").read_text())
    assert deps["llmaz-serverless"]["version"] == local["version"]


def test_stack_renders_the_models_in_its_own_namespace_when_only_the_local_chart_is_present(
    tmp_path: Path,
) -> None:
    docs = _render(tmp_path, "-f", str(STACK / "ci" / "01-serverless-only-values.yaml"))
    kinds = {d["kind"] for d in docs}
    assert {"Playground", "InterceptorRoute", "ScaledObject", "OpenModel", "Deployment"} <= kinds
    so = next(d for d in docs if d["kind"] == "ScaledObject")
    # KEDA and the add-on are installed by the stack into its own namespace
    assert (
        so["spec"]["triggers"][0]["metadata"]["scalerAddress"]
        == "keda-add-ons-http-external-scaler.llmaz-serverless.svc.cluster.local:9090"
    )
    assert so["metadata"]["namespace"] == "llmaz-serverless"
    # nothing from the placeholders of the remote charts
    assert all(
        d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "llmaz-serverless" for d in docs
    )


def test_stack_renders_nothing_of_ours_when_llmaz_serverless_is_disabled(tmp_path: Path) -> None:
    docs = _render(
        tmp_path,
        "--set", "keda.enabled=false", "--set", "keda-add-ons-http.enabled=false",
        "--set", "llmaz.enabled=false", "--set", "llmaz-serverless.enabled=false",
    )  # fmt: skip
    assert docs == []


def test_placeholders_stand_in_only_for_unfetched_remote_dependencies_when_assembled() -> None:
    with lint_charts.assembled(STACK, log=False) as chart:
        sub = sorted(p.name for p in (chart / "charts").iterdir())
        placeholder = yaml.safe_load((chart / "charts" / "keda" / "Chart.yaml").read_text())
    assert sub == ["keda", "keda-add-ons-http", "llmaz", "llmaz-serverless-0.1.0.tgz"]
    assert (placeholder["name"], placeholder["version"]) == ("keda", "2.20.2")
